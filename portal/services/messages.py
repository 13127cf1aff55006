"""Secure messages between patients (or their proxies) and the clinic's teams."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from db.models import (
    Attachment,
    AttachmentBlob,
    Message,
    MessageThread,
    TriageStatus,
    User,
    saved_id,
)
from portal.config import get_settings
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import attachments, audit, audited_reads, notifications, triage, writeback
from portal.services.access import is_staff, require_patient_access
from portal.services.attachments import Upload
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found
from portal.text_hygiene import clean_line, clean_text

CATEGORY = "messages"
KIND = "message"

RECIPIENTS = {"care_team": "Care team", "front_desk": "Front desk", "billing": "Billing"}

triage.register_kind(triage.KindSpec(kind=KIND, label="Message"))


def clean_body(text: str | None) -> str:
    """The message text to store, or InvalidInput with what to fix."""
    body = clean_text(text or "").strip()  # NUL and other controls never reach the database
    if not body:
        raise InvalidInput("Please write a message before sending.")
    limit = get_settings().message_max_chars
    if len(body) > limit:
        raise InvalidInput(
            f"Your message is {len(body):,} characters long; the limit is {limit:,}. "
            "Please shorten it or send it as two messages."
        )
    return body


def _clean_subject(subject: str | None, body: str) -> str:
    subject = " ".join(clean_line(subject or "").split())
    if not subject:
        subject = " ".join(body.split())[:60]
    return subject[:200]


@dataclass(frozen=True)
class _Draft:
    """A message checked before anything is stored: its text, and its files with their types."""

    body: str
    uploads: list[Upload]
    mimes: list[str]


def _draft(body: str | None, uploads: Sequence[Upload]) -> _Draft:
    """Check a message's text and files (InvalidInput with what to fix)."""
    body = clean_body(body)
    files = list(uploads)
    return _Draft(body, files, attachments.check_all(files, get_settings()))


def _add_message(
    session: Session, thread: MessageThread, author: User, draft: _Draft, now: datetime
) -> Message:
    message = Message(
        thread_id=saved_id(thread),
        author_user_id=author.id,
        from_staff=is_staff(author),
        body=draft.body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    for upload, mime in zip(draft.uploads, draft.mimes, strict=True):
        attachments.store(session, saved_id(message), upload, mime)
    thread.last_message_at = now
    session.add(thread)
    return message


def _post(
    actor: User,
    thread: MessageThread,
    draft: _Draft,
    *,
    detail: str,
    session: Session,
    now: datetime,
) -> Message:
    """Add a message that starts or continues a thread (not a staff reply from the inbox): the
    thread enters the inbox or tells staff it has news, audited and committed together."""
    message = _add_message(session, thread, actor, draft, now)
    if not is_staff(actor):
        writeback.patient_message(session, thread, message, now=now)
    triage.open_item(
        session=session,
        kind=KIND,
        ref_id=saved_id(thread),
        patient_id=thread.patient_id,
        summary=f"{RECIPIENTS.get(thread.recipient, '')}: {thread.subject}",
        actor=actor,
        now=now,
    )
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="create",
        patient_id=thread.patient_id,
        detail=detail,
        now=now,
    )
    session.commit()
    return message


def start_thread(
    actor: User,
    patient_id: int,
    *,
    recipient: str,
    subject: str,
    body: str,
    uploads: Sequence[Upload] = (),
    session: Session,
    now: datetime,
) -> MessageThread:
    """A new conversation; committed (and in the triage inbox) when this returns."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    if recipient not in RECIPIENTS:
        raise InvalidInput("Please choose who the message is for.")
    draft = _draft(body, uploads)
    thread = MessageThread(
        patient_id=patient_id,
        recipient=recipient,
        subject=_clean_subject(subject, draft.body),
        created_by_user_id=actor.id,
        created_at=now,
        last_message_at=now,
    )
    session.add(thread)
    session.flush()
    _post(actor, thread, draft, detail=f"thread {thread.id}", session=session, now=now)
    return thread


def _thread_for(actor: User, thread_id: int, *, session: Session, now: datetime) -> MessageThread:
    thread = get_or_not_found(
        session, MessageThread, thread_id, "We could not find that conversation."
    )
    # Access is checked against the thread's patient, so a guessed id gives nothing away.
    require_patient_access(actor, thread.patient_id, session=session, category=CATEGORY, now=now)
    return thread


def patient_reply(
    actor: User,
    thread_id: int,
    *,
    body: str,
    uploads: Sequence[Upload] = (),
    session: Session,
    now: datetime,
) -> Message:
    """The patient writes again in an existing thread; the inbox item reopens if closed."""
    thread = _thread_for(actor, thread_id, session=session, now=now)
    draft = _draft(body, uploads)
    return _post(
        actor, thread, draft, detail=f"thread {thread.id} message", session=session, now=now
    )


def staff_reply(
    actor: User,
    item_id: int,
    seen_version: int,
    *,
    body: str,
    close: bool = True,
    session: Session,
    now: datetime,
) -> Message:
    """Reply to the patient from the inbox; the item closes (or waits on the patient)."""
    require_permission(actor, Action.REPLY_TO_MESSAGES, session=session, now=now)
    body = clean_body(body)
    item = triage.item_of_kind(session, item_id, KIND, "a message")
    status = TriageStatus.CLOSED if close else TriageStatus.WAITING_ON_PATIENT
    values = triage.close_values(now) if close else {"status": status}
    item = triage.transition(
        actor,
        item_id,
        seen_version,
        session=session,
        now=now,
        action="replied",
        values=values,
    )
    thread = get_or_not_found(
        session, MessageThread, item.ref_id, "That conversation is no longer there."
    )
    message = _add_message(session, thread, actor, _Draft(body, [], []), now)
    notifications.notify(
        session=session,
        patient_id=thread.patient_id,
        kind=notifications.Kind.REPLY,
        text=f"New reply from the {RECIPIENTS.get(thread.recipient, 'clinic').lower()}: "
        f"{thread.subject}",
        link_page="messages",
        now=now,
    )
    session.commit()
    notifications.send_emails([thread.patient_id], session=session)
    return message


@dataclass
class ThreadRow:
    thread: MessageThread
    unread: int
    message_count: int


def list_threads(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> list[ThreadRow]:
    """The patient's conversations, newest activity first, with unread counts (one query)."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    unread = func.sum(
        case(
            (col(Message.from_staff).is_(True) & col(Message.read_by_patient_at).is_(None), 1),
            else_=0,
        )
    )
    rows = session.exec(
        select(MessageThread, unread, func.count(col(Message.id)))
        .join(Message, col(Message.thread_id) == MessageThread.id)
        .where(MessageThread.patient_id == patient_id)
        .group_by(col(MessageThread.id))
        .order_by(col(MessageThread.last_message_at).desc(), col(MessageThread.id).desc())
    ).all()
    audited_reads.log_read(
        actor, patient_id, session=session, category=CATEGORY, action="list", now=now
    )
    return [ThreadRow(t, int(u or 0), int(n)) for t, u, n in rows]


def unread_count(actor: User, patient_id: int, *, session: Session, now: datetime) -> int:
    """Staff replies the patient has not opened yet."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    return session.exec(
        select(func.count())
        .select_from(Message)
        .join(MessageThread, col(MessageThread.id) == Message.thread_id)
        .where(
            MessageThread.patient_id == patient_id,
            col(Message.from_staff).is_(True),
            col(Message.read_by_patient_at).is_(None),
        )
    ).one()


@dataclass
class ThreadView:
    thread: MessageThread
    messages: list[Message]
    attachments: dict[int, list[Attachment]]
    authors: dict[int, str]


def read_thread(
    actor: User, thread_id: int, *, session: Session, now: datetime, mark_read: bool = True
) -> ThreadView:
    """A whole conversation; opening it marks the other side's messages as read."""
    thread = _thread_for(actor, thread_id, session=session, now=now)
    messages = list(
        session.exec(
            select(Message)
            .where(Message.thread_id == thread.id)
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
    )
    ids = [m.id for m in messages]
    files: dict[int, list[Attachment]] = {}
    for a in session.exec(select(Attachment).where(col(Attachment.message_id).in_(ids))).all():
        files.setdefault(a.message_id, []).append(a)
    author_ids = {m.author_user_id for m in messages if m.author_user_id}
    authors = {
        saved_id(u): u.display_name or u.username
        for u in session.exec(select(User).where(col(User.id).in_(author_ids))).all()
    }
    if mark_read:
        staff = is_staff(actor)
        column = col(Message.read_by_staff_at) if staff else col(Message.read_by_patient_at)
        # Each side marks only the other side's messages.
        session.execute(
            update(Message)
            .where(col(Message.thread_id) == thread.id, col(Message.from_staff).is_(not staff))
            .where(column.is_(None))
            .values({column: now})
        )
    audited_reads.log_read(
        actor,
        thread.patient_id,
        session=session,
        category=CATEGORY,
        detail=f"thread {thread.id}",
        now=now,
    )
    return ThreadView(thread, messages, files, authors)


def get_attachment(
    actor: User, attachment_id: int, *, session: Session, now: datetime
) -> tuple[Attachment, bytes]:
    """An attachment's bytes, for someone allowed to see its patient's record."""
    attachment = get_or_not_found(
        session, Attachment, attachment_id, "We could not find that file."
    )
    message = get_or_not_found(
        session, Message, attachment.message_id, "We could not find that file."
    )
    thread = _thread_for(actor, message.thread_id, session=session, now=now)
    blob = get_or_not_found(
        session, AttachmentBlob, attachment.sha256, "We could not find that file."
    )
    audited_reads.log_read(
        actor,
        thread.patient_id,
        session=session,
        category=CATEGORY,
        detail=f"attachment {attachment.id}",
        now=now,
    )
    return attachment, blob.data


def thread_for_item(actor: User, item_id: int, *, session: Session, now: datetime) -> ThreadView:
    """The conversation behind a message item in the inbox (staff)."""
    require_permission(actor, Action.REPLY_TO_MESSAGES, session=session, now=now)
    item = triage.item_of_kind(session, item_id, KIND, "a message")
    return read_thread(actor, item.ref_id, session=session, now=now)
