"""What changed for the patient: unread notifications and messages. Drawn on the Home page and
on the Notifications page."""

import streamlit as st

from components.navigation import page
from components.request_ui import local_time, now
from db.models import User
from portal.services import messages, notifications
from portal.services.unit_of_work import session_scope


def notifications_panel(user: User, patient_id: int, *, limit: int = 5, link: bool = True) -> None:
    """Unread counts and the latest notifications, with links to the pages that hold them."""
    with session_scope() as session:
        unread_notes = notifications.unread_count(user, patient_id, session=session, now=now())
        unread_messages = messages.unread_count(user, patient_id, session=session, now=now())
        latest = notifications.list_notifications(
            user, patient_id, session=session, now=now(), limit=limit
        )
    st.subheader("Updates")
    cols = st.columns(2)
    cols[0].metric("Unread updates", f"{unread_notes:,}")
    cols[1].metric("Unread messages", f"{unread_messages:,}")
    if not latest:
        st.caption("Nothing new.")
    for note in latest:
        marker = "● " if note.read_at is None else ""
        st.text(f"{marker}{note.text} ({local_time(note.created_at)})")
    if link:  # st.page_link only resolves inside the multipage app
        st.page_link(page("notifications"), label="All updates", icon=":material/notifications:")
