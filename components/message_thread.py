"""A conversation, shown as plain text: bodies go through st.text, so HTML, scripts and markdown
in a message are displayed literally and can neither run nor hide content."""

from datetime import datetime

import streamlit as st

from components.plain_text import md_literal
from db.models import Attachment, User, saved_id
from portal.errors import PortalError
from portal.services import messages
from portal.services.messages import ThreadView
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def render_thread(view: ThreadView, viewer: User, *, now: datetime) -> None:
    st.caption(
        md_literal(
            f"To: {messages.RECIPIENTS.get(view.thread.recipient, view.thread.recipient)}"
            f" · started {format_datetime(view.thread.created_at)}"
        )
    )
    for message in view.messages:
        unnamed = "Clinic" if message.from_staff else ""
        author_id = message.author_user_id
        author = unnamed if author_id is None else view.authors.get(author_id, unnamed)
        with st.container(border=True):
            st.caption(f"{md_literal(author)} · {format_datetime(message.created_at)}")
            st.text(message.body)
            for attachment in view.attachments.get(saved_id(message), []):
                _attachment_button(attachment, viewer, now=now)


def _attachment_button(attachment: Attachment, viewer: User, *, now: datetime) -> None:
    # The file name is the sender's: button labels and captions are Markdown.
    label = md_literal(f"{attachment.filename} ({max(1, attachment.size // 1024)} KB)")
    try:
        with session_scope() as session:
            _, data = messages.get_attachment(
                viewer, saved_id(attachment), session=session, now=now
            )
    except PortalError as error:
        st.caption(f"{label}: {md_literal(error.user_message)}")
        return
    st.download_button(
        f"Download {label}",
        data=data,
        file_name=attachment.filename,
        mime=attachment.content_type,
        key=f"attachment_{attachment.id}",
    )
