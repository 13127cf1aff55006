"""Patient messages: conversations with the care team, front desk or billing."""

from functools import partial

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components import session_keys as keys
from components.actions import run_action, show_flash
from components.attachment_picker import attachment_picker, clear_attachments
from components.message_thread import render_thread
from components.patient_context import record_page
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from components.remembered_pick import remembered_pick
from db.models import MessageThread, User, saved_id
from portal.clock import utcnow
from portal.config import get_settings
from portal.services import attachments, messages
from portal.services.attachments import Upload
from portal.services.unit_of_work import Session, session_scope
from portal.timefmt import format_datetime


def _uploads(files: list[UploadedFile]) -> tuple[list[Upload], list[str]]:
    """The files that go on the message, and a sentence for each one that does not."""
    given = [Upload(f.name, f.getvalue()) for f in files or []]
    return attachments.sort_uploads(given, get_settings())


def _sent(text: str, not_attached: list[str]) -> tuple[str, str]:
    if not_attached:  # file names are the patient's text: shown literally, never as markdown
        return ("warning", " ".join(md_literal(t) for t in [text, *not_attached]))
    return ("success", text)


def _start_thread(
    user: User,
    patient_id: int,
    recipient: str,
    subject: str,
    body: str,
    files: list[UploadedFile],
    session: Session,
) -> tuple[MessageThread, list[str]]:
    """Send a new message; returns it with the sentences on the files it did not attach."""
    uploads, not_attached = _uploads(files)
    thread = messages.start_thread(
        user,
        patient_id,
        recipient=recipient,
        subject=subject,
        body=body,
        uploads=uploads,
        session=session,
        now=utcnow(),
    )
    return thread, not_attached


def _after_new_thread(sent: tuple[MessageThread, list[str]]) -> None:
    """Only now is the message committed: open its thread and empty the form."""
    thread, _ = sent
    st.session_state[keys.MESSAGES_SELECTED_THREAD] = thread.id
    st.session_state[keys.MESSAGES_CLEAR_FIELDS] = ("new_message_subject", "new_message_body")
    clear_attachments("new_message_files")


def _reply(
    user: User, thread_id: int, body: str, files: list[UploadedFile], session: Session
) -> list[str]:
    uploads, not_attached = _uploads(files)
    messages.patient_reply(
        user, thread_id, body=body, uploads=uploads, session=session, now=utcnow()
    )
    return not_attached


def _after_reply(_not_attached: list[str]) -> None:
    st.session_state[keys.MESSAGES_CLEAR_FIELDS] = ("reply_body",)
    clear_attachments("reply_files")


def render() -> None:
    user, patient = record_page("Messages")
    settings = get_settings()
    show_flash()
    # After a send the text is in the thread; its form starts empty, so a second click sends no
    # copy.
    # (Set before the widgets are drawn: the browser keeps a form's text otherwise.)
    for field in st.session_state.pop(keys.MESSAGES_CLEAR_FIELDS, ()):
        st.session_state[field] = ""

    LIMITS = (
        f"Up to {settings.message_max_chars:,} characters. Attach PDF, JPEG or PNG files "
        f"(up to {settings.attachment_max_bytes // (1024 * 1024):,} MB each)."
    )

    # No st.form: the list of files that will be attached must show before the patient sends.
    with st.expander("Write a new message", expanded=False):
        recipient = st.selectbox(
            "To",
            options=list(messages.RECIPIENTS),
            format_func=lambda r: messages.RECIPIENTS[r],
            key="new_message_to",
        )
        subject = st.text_input("Subject", max_chars=200, key="new_message_subject")
        body = st.text_area("Message", help=LIMITS, key="new_message_body")
        # No type filter: the browser would drop other files unseen; the portal checks each
        # file's content and names the ones it does not attach.
        files = attachment_picker("new_message_files")
        st.caption("For an emergency call 911. Messages are read during business hours.")
        if st.button(md_literal(patient.acting("Send message", "about")), type="primary"):
            run_action(
                partial(_start_thread, user, patient.patient_id, recipient, subject, body, files),
                lambda sent: _sent(
                    "Sent. The clinic will reply here; we will notify you.", sent[1]
                ),
                after=_after_new_thread,
            )

    with session_scope() as session:
        threads = messages.list_threads(user, patient.patient_id, session=session, now=utcnow())

    if not threads:
        st.info("No messages yet. Use 'Write a new message' to contact the clinic.")
        st.stop()

    unread_total = sum(t.unread for t in threads)
    st.subheader(f"Conversations ({unread_total} unread)" if unread_total else "Conversations")
    ids = [saved_id(t.thread) for t in threads]
    labels = {
        # Radio options are Markdown: the subject is the patient's own text.
        t.thread.id: md_literal(
            f"{'● ' if t.unread else ''}{t.thread.subject} · "
            f"{messages.RECIPIENTS.get(t.thread.recipient, '')} · "
            f"{format_datetime(t.thread.last_message_at)}"
            + (f" · {t.unread} new" if t.unread else "")
        )
        for t in threads
    }
    thread_id = remembered_pick(
        st.radio,
        "Conversation",
        ids,
        keys.MESSAGES_SELECTED_THREAD,
        format_func=labels.get,
        label_visibility="collapsed",
    )

    with errors_as_messages(), session_scope() as session:
        view = messages.read_thread(user, thread_id, session=session, now=utcnow())

    st.subheader(md_literal(view.thread.subject))
    render_thread(view, user, now=utcnow())

    with st.container(border=True):
        reply = st.text_area("Reply", help=LIMITS, key="reply_body")
        reply_files = attachment_picker("reply_files")
        if st.button(md_literal(patient.acting("Send reply", "about"))):
            run_action(
                partial(_reply, user, thread_id, reply, reply_files),
                partial(_sent, "Sent."),
                after=_after_reply,
            )
