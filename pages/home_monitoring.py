"""Staff: a patient's home readings, remote-monitoring alerts, goals and alert thresholds.

Opened for the chart picked in Patient lookup (or from a reading alert in the triage inbox).
Nurses and clinicians set goals with the patient; only clinicians change alert thresholds.
"""

import streamlit as st

from components.actions import run_action, show_flash
from components.current_user import current_user
from components.patient_context import active_patient_id
from components.permission_gate import can, require_page_permission
from components.plain_text import md_literal
from components.readings_ui import render_goals, render_recent
from portal.clock import utcnow
from portal.permissions import REFUSALS, Action
from portal.services.readings import alerts, units
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def _bound(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def render() -> None:
    user = current_user()
    st.title("Home monitoring")
    require_page_permission(user, Action.READ_ANY_CHART)
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()
    show_flash()

    alerts_tab, readings_tab, goals_tab, thresholds_tab = st.tabs(
        ["Alerts", "Readings", "Goals", "Alert thresholds"]
    )

    with alerts_tab:
        with session_scope() as session:
            alert_rows = alerts.patient_alerts(user, patient_id, session=session, now=utcnow())
        if not alert_rows:
            st.info("No reading alerts for this patient.")
        for row in alert_rows:
            episode = row.episode
            if episode.closed_at is None:
                state = "Open"
            elif episode.closed_reason == alerts.BACK_IN_RANGE:
                state = f"Back in range {format_datetime(episode.closed_at)}"
            else:
                state = f"Resolved by staff {format_datetime(episode.closed_at)}"
            st.text(
                f"{row.label}: {episode.out_count} reading(s) out of range since "
                f"{format_datetime(episode.opened_at)}; latest {row.latest_text}. {state}."
            )

    with readings_tab:
        render_recent(user, patient_id, key="staff_readings")

    with goals_tab:
        render_goals(
            user,
            patient_id,
            key="staff_goals",
            can_edit=can(user, Action.SET_READING_GOALS),
        )

    with thresholds_tab:
        with session_scope() as session:
            rows = alerts.list_thresholds(user, patient_id, session=session, now=utcnow())
        st.dataframe(
            [
                {
                    "Measure": r.label,
                    "Low": _bound(r.threshold.low),
                    "High": _bound(r.threshold.high),
                    "Diastolic low": _bound(r.threshold.low2)
                    if r.measure == units.BLOOD_PRESSURE
                    else "",
                    "Diastolic high": _bound(r.threshold.high2)
                    if r.measure == units.BLOOD_PRESSURE
                    else "",
                    "Unit": r.unit,
                    "Set for this patient": "yes" if r.overridden else "clinic default",
                }
                for r in rows
            ],
            hide_index=True,
        )
        if not can(user, Action.SET_READING_THRESHOLDS):
            st.caption(md_literal(REFUSALS[Action.SET_READING_THRESHOLDS]))
            st.stop()
        by_measure = {r.measure: r for r in rows}
        measure = st.selectbox(
            "Change thresholds for",
            list(by_measure),
            format_func=lambda m: by_measure[m].label,
            key="threshold_measure",
        )
        current = by_measure[measure]
        st.caption(
            f"Values in {md_literal(current.unit)}. Leave a box empty for no alert on that side."
        )
        with st.form(f"threshold_form_{measure}"):
            left, right = st.columns(2)
            low = left.number_input(
                "Alert below", value=current.threshold.low, key=f"th_low_{measure}"
            )
            high = right.number_input(
                "Alert above", value=current.threshold.high, key=f"th_high_{measure}"
            )
            low2 = high2 = None
            if measure == units.BLOOD_PRESSURE:
                low2 = left.number_input(
                    "Diastolic alert below", value=current.threshold.low2, key=f"th_low2_{measure}"
                )
                high2 = right.number_input(
                    "Diastolic alert above",
                    value=current.threshold.high2,
                    key=f"th_high2_{measure}",
                )
            save = st.form_submit_button("Save thresholds")
            reset = st.form_submit_button(
                "Back to clinic defaults", disabled=not current.overridden
            )
        if save or reset:
            run_action(
                lambda s: (
                    alerts.set_threshold(
                        user,
                        patient_id,
                        measure,
                        session=s,
                        now=utcnow(),
                        low=low,
                        high=high,
                        low2=low2,
                        high2=high2,
                    )
                    if save
                    else alerts.reset_threshold(user, patient_id, measure, session=s, now=utcnow())
                ),
                f"Alert thresholds saved for {current.label.lower()}.",
            )
