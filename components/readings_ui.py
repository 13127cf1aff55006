"""Widgets the readings pages share: the readings table and chart, goals with progress charts,
and the goal form. Everything the patient typed is shown as plain text or in tables."""

from datetime import date, datetime, time

import altair as alt
import pandas as pd
import streamlit as st

from components.actions import run_action
from components.plain_text import md_literal
from components.portal_errors import show_error
from db.models import User
from portal.clock import utcnow
from portal.config import get_settings
from portal.errors import PortalError
from portal.services.readings import csv_import, entry, goals, units
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime, naive_local

ALL = ""


def measure_label(code: str) -> str:
    return units.MEASURES[code].label if code else "All measures"


def readings_frame(rows: list[entry.ReadingRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "When": format_datetime(r.taken_at),
                "Measure": r.label,
                "Reading": r.text,
                "As entered": r.entered,
                "Source": r.source,
            }
            for r in rows
        ],
        columns=["When", "Measure", "Reading", "As entered", "Source"],
    )


def readings_chart(rows: list[entry.ReadingRow], measure: str) -> alt.Chart:
    """One measure over time (blood pressure as two lines)."""
    unit = units.MEASURES[measure].unit
    points = []
    for r in rows:
        first = "Systolic" if measure == units.BLOOD_PRESSURE else r.label
        points.append({"when": naive_local(r.taken_at), "value": r.value, "series": first})
        if r.value2 is not None:
            points.append(
                {"when": naive_local(r.taken_at), "value": r.value2, "series": "Diastolic"}
            )
    frame = pd.DataFrame(points, columns=["when", "value", "series"])
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("when:T", title=None),
            y=alt.Y("value:Q", title=unit, scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("when:T", title="When"), alt.Tooltip("value:Q", title=unit)],
        )
    )
    return chart


def render_recent(user: User, patient_id: int, *, key: str) -> list[entry.ReadingRow]:
    """Recent readings with a measure filter; a chart once one measure is picked. Returns the
    rows shown."""
    measure = st.selectbox(
        "Show", [ALL, *units.MEASURES], format_func=measure_label, key=f"{key}_measure"
    )
    try:
        with session_scope() as session:
            rows = entry.recent_readings(
                user, patient_id, session=session, now=utcnow(), measure=measure or None
            )
    except PortalError as error:
        show_error(error)
        return []
    if not rows:
        st.info("No readings in the last 90 days yet.")
        return []
    if measure and len(rows) > 1:
        st.altair_chart(readings_chart(rows, measure), width="stretch")
    st.dataframe(readings_frame(rows), hide_index=True, key=f"{key}_table")
    return rows


def _goal_series(kind: goals.GoalKind) -> str:
    if kind.measure is None:
        return "A1c"
    return "Steps that day" if kind.daily_total else units.MEASURES[kind.measure].label


def goal_chart(progress: goals.GoalProgress) -> alt.LayerChart | alt.FacetChart:
    """The goal's points with the target as a dashed rule (two for blood pressure)."""
    points = []
    for p in progress.points:
        first = "Systolic" if progress.goal.target2 is not None else _goal_series(progress.kind)
        points.append({"when": naive_local(p.when), "value": p.value, "series": first})
        if p.value2 is not None:
            points.append({"when": naive_local(p.when), "value": p.value2, "series": "Diastolic"})
    frame = pd.DataFrame(points, columns=["when", "value", "series"])
    targets = [progress.goal.target] + (
        [progress.goal.target2] if progress.goal.target2 is not None else []
    )
    unit = progress.kind.unit
    mark = (
        alt.Chart(frame).mark_bar()
        if progress.kind.daily_total
        else alt.Chart(frame).mark_line(point=True)
    )
    line = mark.encode(
        x=alt.X("when:T", title=None),
        y=alt.Y("value:Q", title=unit, scale=alt.Scale(zero=progress.kind.daily_total)),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("when:T", title="When"), alt.Tooltip("value:Q", title=unit)],
    )
    rule = (
        alt.Chart(pd.DataFrame({"target": targets}))
        .mark_rule(strokeDash=[6, 4], color="#2e7d32")
        .encode(y="target:Q", tooltip=[alt.Tooltip("target:Q", title="Target")])
    )
    return alt.layer(line, rule)


def render_goals(user: User, patient_id: int, *, key: str, can_edit: bool) -> None:
    try:
        with session_scope() as session:
            progress_list = goals.goals_with_progress(
                user, patient_id, session=session, now=utcnow()
            )
    except PortalError as error:
        show_error(error)
        return
    if not progress_list:
        st.info("No goals yet." + (" Set one below." if can_edit else ""))
    for progress in progress_list:
        with st.container(border=True):
            st.text(f"{progress.target_text} · {progress.status_text}")
            if progress.latest is not None:
                latest = units.format_value(
                    progress.kind.measure or "", progress.latest.value, progress.latest.value2
                )
                st.caption(md_literal(f"Latest: {latest} {progress.kind.unit}"))
            if progress.goal.note:
                st.text(progress.goal.note)
            if progress.points:
                st.altair_chart(goal_chart(progress), width="stretch")
                st.caption("The dashed green line is the target.")
            if can_edit and st.button("Stop this goal", key=f"{key}_stop_{progress.goal.id}"):
                run_action(
                    lambda s, goal_id=progress.goal.id: goals.stop_goal(
                        user, goal_id, session=s, now=utcnow()
                    ),
                    "Goal stopped.",
                )
    if can_edit:
        render_goal_form(user, patient_id, key=key)


def render_goal_form(user: User, patient_id: int, *, key: str) -> None:
    st.subheader("Set a goal")
    kind = st.selectbox(
        "Goal",
        list(goals.GOAL_KINDS),
        format_func=lambda k: goals.GOAL_KINDS[k].label,
        key=f"{key}_goal_kind",
    )
    spec = goals.GOAL_KINDS[kind]
    with st.form(f"{key}_goal_form"):
        target2 = unit = None
        if spec.measure == units.BLOOD_PRESSURE:
            left, right = st.columns(2)
            target = left.number_input("Systolic under", value=None, key=f"{key}_goal_target")
            target2 = right.number_input("Diastolic under", value=None, key=f"{key}_goal_target2")
        else:
            target = st.number_input(
                md_literal(f"Target ({spec.unit})"), value=None, key=f"{key}_goal_target"
            )
            if spec.measure == units.WEIGHT:
                unit = st.selectbox("Unit", ["kg", "lb"], key=f"{key}_goal_unit")
        note = st.text_input("Note (optional)", max_chars=500, key=f"{key}_goal_note")
        if st.form_submit_button("Save goal"):
            if target is None:
                st.error("Please enter a target.")
                return
            run_action(
                lambda s: goals.set_goal(
                    user,
                    patient_id,
                    session=s,
                    now=utcnow(),
                    kind=kind,
                    target=target,
                    target2=target2,
                    unit=unit,
                    note=note,
                ),
                f"Goal saved: {spec.label}.",
            )


def clinic_datetime(day: date, clock: time) -> datetime:
    """A date and time picked in clinic time, as an aware datetime."""
    return datetime.combine(day, clock, tzinfo=get_settings().tz)


def render_import_preview(
    data: bytes, mapping: csv_import.ColumnMapping, source: str | None
) -> bool:
    """The first rows as the import will store them, before anything is; False (with the reason
    shown) when the import would refuse this mapping."""
    try:
        rows = csv_import.preview_readings(data, mapping, tz=get_settings().tz, now=utcnow())
    except PortalError as error:
        show_error(error)
        return False
    st.subheader("What will be imported")
    st.caption("The first rows of your file as they will be saved. Nothing is saved yet.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Line": r.where,
                    "When": format_datetime(r.taken_at) if r.taken_at else "",
                    "Measure": r.measure,
                    "Reading": r.reading,
                    "Not imported because": r.problem,
                }
                for r in rows
            ],
            columns=["Line", "When", "Measure", "Reading", "Not imported because"],
        ),
        hide_index=True,
        key="import_preview_table",
    )
    if source:
        st.caption(
            md_literal(
                f"Rows whose '{source}' says clinic are left out: clinic measurements are in "
                "your record already and are not home readings."
            )
        )
    return True
