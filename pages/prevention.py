"""Preventive care (patients and proxies): screenings and vaccines due, overdue or up to date,
computed from the record by published schedules, each with why and a one-click visit request."""

import streamlit as st

from components.actions import run_action, show_flash
from components.patient_context import RecordInView, record_page
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from db.models import User
from portal.clock import utcnow
from portal.services import preventive
from portal.services.preventive import CareItem, CareStatus
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_date

ICONS = {
    CareStatus.OVERDUE: ":material/error:",
    CareStatus.DUE: ":material/schedule:",
    CareStatus.UP_TO_DATE: ":material/check_circle:",
}


def _request_visit(user: User, patient_id: int, item: CareItem) -> None:
    run_action(
        lambda s: preventive.request_preventive_visit(
            user, patient_id, item.rule_code, session=s, now=utcnow()
        ),
        f"Visit request sent for {item.name}. The clinic will contact you to book.",
    )


def _care_card(user: User, person: RecordInView, item: CareItem) -> None:
    with st.container(border=True):
        name, status = md_literal(item.name), md_literal(item.status_label)
        st.markdown(f"{ICONS[item.status]} **{name}** · {status}")
        st.text(item.why)
        done = format_date(item.last_done) if item.last_done else "No record of it yet"
        if item.next_due is None:
            due = "Not needed again"
        elif item.status == CareStatus.UP_TO_DATE:
            due = f"Next due {format_date(item.next_due)}"
        elif item.last_done is None:
            due = "Due now"
        else:
            due = f"Due since {format_date(item.next_due)}"
        st.caption(md_literal(f"Last done: {done} · {due} · Source: {item.authority}"))
        if item.evidence:  # the record that counts, in the EHR's words: plain text
            st.text(f"Counted from your record: {item.evidence}")
        if item.status == CareStatus.UP_TO_DATE:
            return
        if item.requested:
            st.caption("Visit requested. The clinic will contact you to book.")
        elif st.button(
            md_literal(person.acting("Request a visit")), key=f"prevent_request_{item.rule_code}"
        ):
            _request_visit(user, person.patient_id, item)


def render() -> None:
    user, person = record_page("Preventive care")
    patient_id = person.patient_id
    show_flash()

    with errors_as_messages(), session_scope() as session:
        items = preventive.preventive_care(user, patient_id, session=session, now=utcnow())

    needs = [i for i in items if i.status != CareStatus.UP_TO_DATE]
    done_items = [i for i in items if i.status == CareStatus.UP_TO_DATE]
    if not items:
        st.info("There are no screenings or vaccines we can suggest from your record right now.")
    elif not needs:
        st.success("You are up to date with the screenings and vaccines we track.")
    for care in needs:
        _care_card(user, person, care)
    if done_items:
        with st.expander(f"Up to date ({len(done_items)})"):
            for care in done_items:
                _care_card(user, person, care)
    st.caption(
        "Based on your age, sex, conditions and what your record shows was done, using USPSTF, "
        "American Diabetes Association and CDC schedules. Care done elsewhere may not be in your "
        "record: tell your care team about it."
    )
