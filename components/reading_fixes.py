"""Delete or correct a home reading the patient or their caregiver entered (My readings)."""

import streamlit as st

from components.actions import run_action
from components.plain_text import md_literal
from db.models import User
from portal.clock import utcnow
from portal.services.readings import edits, entry, units
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def render_reading_fixes(user: User, patient_id: int, rows: list[entry.ReadingRow]) -> None:
    if not rows:
        return
    with session_scope() as session:
        allowed = edits.editable_ids(
            user, patient_id, [r.id for r in rows], session=session, now=utcnow()
        )
    fixable = [r for r in rows if r.id in allowed]
    st.subheader("Fix a reading")
    if not fixable:
        st.caption(
            "You can delete or correct readings you or your caregiver entered, except ones the "
            "care team was alerted about (message them if one of those is wrong)."
        )
        return
    by_id = {r.id: r for r in fixable}
    reading_id = st.selectbox(
        "Reading",
        list(by_id),
        format_func=lambda i: (
            f"{format_datetime(by_id[i].taken_at)} · {by_id[i].label} · {by_id[i].text}"
        ),
        key="fix_reading_id",
    )
    row = by_id[reading_id]
    spec = units.MEASURES[row.measure]
    correct, remove = st.columns(2)
    with correct:
        st.markdown("**Correct it**")
        if spec.pair:
            value = st.number_input("Systolic (top number)", value=None, key="fix_value")
            value2 = st.number_input("Diastolic (bottom number)", value=None, key="fix_value2")
        else:
            value = st.number_input(md_literal(spec.label), value=None, key="fix_value")
            value2 = None
        unit = st.selectbox("Unit", list(spec.entry_units), key="fix_unit")
        if st.button("Save correction", key="fix_save"):
            if value is None or (spec.pair and value2 is None):
                st.error("Please enter the corrected number" + ("s." if spec.pair else "."))
            else:
                run_action(
                    lambda session: edits.correct_reading(
                        user,
                        patient_id,
                        reading_id,
                        value=value,
                        value2=value2,
                        unit=unit,
                        taken_at=row.taken_at,
                        session=session,
                        now=utcnow(),
                    ),
                    lambda result: (
                        f"Corrected: {spec.label.lower()} is now {result.text}."
                        + (
                            " Your care team has been told it is outside your range."
                            if result.alert_opened
                            else ""
                        )
                    ),
                )
    with remove:
        st.markdown("**Delete it**")
        sure = st.checkbox("Yes, delete this reading", key="fix_confirm_delete")
        if st.button("Delete reading", key="fix_delete", disabled=not sure):
            run_action(
                lambda session: edits.delete_reading(
                    user, patient_id, reading_id, session=session, now=utcnow()
                ),
                lambda _result: (
                    f"Deleted: {row.label.lower()} {row.text} of {format_datetime(row.taken_at)}."
                ),
            )
