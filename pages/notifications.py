"""Every update to the patient's requests, newest first."""

import streamlit as st

from components.actions import run_action
from components.notifications_panel import open_link
from components.patient_context import record_page
from components.plain_text import md_literal
from portal.clock import utcnow
from portal.services import notifications
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def render() -> None:
    user, patient = record_page("Updates")

    with session_scope() as session:
        notes = notifications.list_notifications(
            user, patient.patient_id, session=session, now=utcnow(), limit=100
        )

    unread = [n for n in notes if n.read_at is None]
    st.caption(f"{len(unread)} unread" if unread else "All read")
    if not notes:
        st.info("No updates yet. Replies and decisions on your requests will show here.")
    for note in notes:
        with st.container(border=True):
            st.text(("● " if note.read_at is None else "") + note.text)
            st.caption(format_datetime(note.created_at))
            open_link(user, note)

    if unread and st.button(
        md_literal(patient.acting("Mark all as read")), key="notifications_mark_read"
    ):
        run_action(
            lambda s: notifications.mark_all_read(
                user, patient.patient_id, session=s, now=utcnow()
            ),
            None,
        )
