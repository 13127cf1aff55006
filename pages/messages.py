"""Patient messages: conversations with the care team, front desk or billing."""

import streamlit as st

from components import session_keys as keys
from components.attachment_picker import attachment_picker, clear_attachments
from components.current_user import current_user
from components.message_thread import render_thread
from components.plain_text import md_literal
from components.portal_errors import show_error
from components.request_ui import acting_patient, flash, local_time, now, show_flash
from portal.config import get_settings
from portal.errors import PortalError
from portal.services import attachments, messages
from portal.services.attachments import Upload
from portal.services.unit_of_work import session_scope


def _uploads(files) -> tuple[list[Upload], list[str]]:
    """The files that go on the message, and a sentence for each one that does not."""
    given = [Upload(f.name, f.getvalue()) for f in files or []]
    return attachments.sort_uploads(given, get_settings())


def _sent(text: str, not_attached: list[str]) -> None:
    if not_attached:  # file names are the patient's text: shown literally, never as markdown
        flash("warning", " ".join(md_literal(t) for t in [text, *not_attached]))
    else:
        flash("success", text)


def render() -> None:
    user = current_user()
    patient = acting_patient(user)
    settings = get_settings()
    st.title("Messages")
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
            format_func=messages.RECIPIENTS.get,
            key="new_message_to",
        )
        subject = st.text_input("Subject", max_chars=200, key="new_message_subject")
        body = st.text_area("Message", help=LIMITS, key="new_message_body")
        # No type filter: the browser would drop other files unseen; the portal checks each
        # file's content and names the ones it does not attach.
        files = attachment_picker("new_message_files")
        st.caption("For an emergency call 911. Messages are read during business hours.")
        if st.button("Send message", type="primary"):
            try:
                uploads, not_attached = _uploads(files)
                with session_scope() as session:
                    thread = messages.start_thread(
                        user,
                        patient.id,
                        recipient=recipient,
                        subject=subject,
                        body=body,
                        uploads=uploads,
                        session=session,
                        now=now(),
                    )
            except PortalError as error:
                show_error(error)
            else:
                # Only now is the message committed, so only now do we say "Sent".
                st.session_state[keys.MESSAGES_SELECTED_THREAD] = thread.id
                st.session_state[keys.MESSAGES_CLEAR_FIELDS] = (
                    "new_message_subject",
                    "new_message_body",
                )
                clear_attachments("new_message_files")
                _sent("Sent. The clinic will reply here; we will notify you.", not_attached)
                st.rerun()

    with session_scope() as session:
        threads = messages.list_threads(user, patient.id, session=session, now=now())

    if not threads:
        st.info("No messages yet. Use 'Write a new message' to contact the clinic.")
        st.stop()

    unread_total = sum(t.unread for t in threads)
    st.subheader(f"Conversations ({unread_total} unread)" if unread_total else "Conversations")
    ids = [t.thread.id for t in threads]
    labels = {
        # Radio options are Markdown: the subject is the patient's own text.
        t.thread.id: md_literal(
            f"{'● ' if t.unread else ''}{t.thread.subject} · "
            f"{messages.RECIPIENTS.get(t.thread.recipient, '')} · "
            f"{local_time(t.thread.last_message_at)}" + (f" · {t.unread} new" if t.unread else "")
        )
        for t in threads
    }
    selected = st.session_state.get(keys.MESSAGES_SELECTED_THREAD)
    thread_id = st.radio(
        "Conversation",
        options=ids,
        index=ids.index(selected) if selected in ids else 0,
        format_func=labels.get,
        label_visibility="collapsed",
    )
    st.session_state[keys.MESSAGES_SELECTED_THREAD] = thread_id

    try:
        with session_scope() as session:
            view = messages.read_thread(user, thread_id, session=session, now=now())
    except PortalError as error:
        show_error(error)
        st.stop()

    st.subheader(md_literal(view.thread.subject))
    render_thread(view, user, now=now())

    with st.container(border=True):
        reply = st.text_area("Reply", help=LIMITS, key="reply_body")
        reply_files = attachment_picker("reply_files")
        if st.button("Send reply"):
            try:
                uploads, not_attached = _uploads(reply_files)
                with session_scope() as session:
                    messages.patient_reply(
                        user,
                        thread_id,
                        body=reply,
                        uploads=uploads,
                        session=session,
                        now=now(),
                    )
            except PortalError as error:
                show_error(error)
            else:
                st.session_state[keys.MESSAGES_CLEAR_FIELDS] = ("reply_body",)
                clear_attachments("reply_files")
                _sent("Sent.", not_attached)
                st.rerun()
