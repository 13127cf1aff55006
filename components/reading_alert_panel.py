"""The triage inbox's panel for a reading alert: the thresholds, the readings around the
episode, and a way into the patient's home-monitoring page."""

import streamlit as st

from components import session_keys as keys
from components.navigation import page
from components.plain_text import md_literal
from components.portal_errors import show_error
from db.models import TriageItem, User
from portal.clock import utcnow
from portal.errors import PortalError
from portal.services.readings import alerts, units
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def _limits(threshold: alerts.Threshold, pair: bool) -> str:
    def side(low: float | None, high: float | None) -> str:
        parts = [f"below {low:g}" if low is not None else "", f"above {high:g}" if high else ""]
        return " or ".join(p for p in parts if p) or "no alert"

    text = side(threshold.low, threshold.high)
    if pair:
        text += f"; diastolic {side(threshold.low2, threshold.high2)}"
    return text


def render_reading_alert(user: User, item: TriageItem) -> None:
    try:
        with session_scope() as session:
            detail = alerts.alert_detail(user, item.ref_id, session=session, now=utcnow())
    except PortalError as error:
        show_error(error)
        return
    episode = detail.episode
    pair = episode.measure == units.BLOOD_PRESSURE
    unit = units.MEASURES[episode.measure].unit
    st.caption(
        md_literal(
            f"Alerts when {detail.label.lower()} is {_limits(detail.threshold, pair)} {unit}."
        )
    )
    if episode.closed_at is None:
        st.text(f"Ongoing: {episode.out_count} reading(s) out of range so far.")
    else:
        why = (
            "readings back in range"
            if episode.closed_reason == alerts.BACK_IN_RANGE
            else ("resolved by staff")
        )
        st.text(f"Ended {format_datetime(episode.closed_at)} ({why}).")
    st.dataframe(
        [
            {
                "When": format_datetime(r.taken_at),
                "Reading": units.display(r.measure, r.value, r.value2),
                "Out of range": alerts.breach(detail.threshold, r.value, r.value2) or "",
            }
            for r in detail.readings
        ],
        hide_index=True,
        key=f"alert_readings_{item.id}",
    )
    if st.button("Open home monitoring", key=f"alert_open_{item.id}"):
        st.session_state[keys.STAFF_OPEN_PATIENT_ID] = item.patient_id
        st.switch_page(page("home_monitoring"))
