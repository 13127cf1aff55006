"""Every update to the patient's requests, newest first."""

import streamlit as st

from components.current_user import current_user
from components.request_ui import acting_patient, local_time, now
from portal.services import notifications
from portal.services.unit_of_work import session_scope


def render() -> None:
    user = current_user()
    patient = acting_patient(user)
    st.title("Updates")

    with session_scope() as session:
        notes = notifications.list_notifications(
            user, patient.id, session=session, now=now(), limit=100
        )

    unread = [n for n in notes if n.read_at is None]
    st.caption(f"{len(unread)} unread" if unread else "All read")
    if not notes:
        st.info("No updates yet. Replies and decisions on your requests will show here.")
    for note in notes:
        with st.container(border=True):
            st.text(("● " if note.read_at is None else "") + note.text)
            st.caption(local_time(note.created_at))

    if unread and st.button("Mark all as read", key="notifications_mark_read"):
        with session_scope() as session:
            notifications.mark_all_read(user, patient.id, session=session, now=now())
        st.rerun()
