"""What changed for the patient: unread notifications and messages. Drawn on the Home page and
on the Notifications page."""

import streamlit as st

from components.navigation import PAGES, menu_for, page
from components.plain_text import md_literal
from db.models import Notification, User
from portal.clock import utcnow
from portal.services import messages, notifications
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def notifications_panel(user: User, patient_id: int, *, limit: int = 5, link: bool = True) -> None:
    """Unread counts and the latest notifications, with links to the pages that hold them."""
    with session_scope() as session:
        unread_notes = notifications.unread_count(user, patient_id, session=session, now=utcnow())
        unread_messages = messages.unread_count(user, patient_id, session=session, now=utcnow())
        latest = notifications.list_notifications(
            user, patient_id, session=session, now=utcnow(), limit=limit
        )
    st.subheader("Updates")
    cols = st.columns(2)
    cols[0].metric("Unread updates", f"{unread_notes:,}")
    cols[1].metric("Unread messages", f"{unread_messages:,}")
    if not latest:
        st.caption("Nothing new.")
    for note in latest:
        marker = "● " if note.read_at is None else ""
        st.text(f"{marker}{note.text} ({format_datetime(note.created_at)})")
    if link:  # st.page_link only resolves inside the multipage app
        st.page_link(page("notifications"), label="All updates", icon=":material/notifications:")


def open_link(user: User, note: Notification) -> None:
    """A link to the page the notification is about, if this account's menu has that page."""
    name = notifications.page_of(note)
    if name in PAGES and any(name in names for names in menu_for(user.role).values()):
        st.page_link(page(name), label=md_literal(f"Open {PAGES[name].title}"))
