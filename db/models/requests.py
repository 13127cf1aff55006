"""Patient requests and the staff triage inbox: messages, refills, profile changes, notices."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from portal.clock import utcnow

# Each request type keeps its own table (MessageThread, RefillRequest, ProfileChangeRequest, ...);
# TriageItem points at one of them by (kind, ref_id), so new request types join the same inbox
# without touching the inbox itself.


class MessageThread(SQLModel, table=True):
    """A conversation between a patient (or their proxy) and one clinic team."""

    __table_args__ = (Index("ix_messagethread_patient_last", "patient_id", "last_message_at"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    recipient: str = Field(max_length=32)  # care_team / front_desk / billing
    subject: str = Field(default="", max_length=200)
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_message_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One message in a thread. Read markers are per side, so unread counts need no join table."""

    __table_args__ = (Index("ix_message_thread_created", "thread_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="messagethread.id")
    author_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    from_staff: bool = False
    body: str
    created_at: datetime = Field(default_factory=utcnow)
    read_by_patient_at: datetime | None = None
    read_by_staff_at: datetime | None = None


class AttachmentBlob(SQLModel, table=True):
    """Attachment bytes, addressed by their SHA-256 so the same file is stored once."""

    sha256: str = Field(primary_key=True, max_length=64)
    content_type: str = Field(max_length=100)
    size: int
    data: bytes
    created_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """A file on a message: the name the patient gave it and the hash of its checked content."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(foreign_key="attachmentblob.sha256", max_length=64)


class RefillStatus(StrEnum):
    REQUESTED = "requested"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DENIED = "denied"


OPEN_REFILL_STATUSES = (RefillStatus.REQUESTED, RefillStatus.IN_REVIEW)


class RefillRequest(SQLModel, table=True):
    __table_args__ = (
        Index("ix_refill_patient_med_status", "patient_id", "medication_request_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    medication_request_id: int = Field(foreign_key="medicationrequest.id")
    pharmacy: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=2000)
    status: str = Field(default=RefillStatus.REQUESTED, max_length=32)
    decision_reason: str | None = Field(default=None, max_length=2000)
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class PatientPreferences(SQLModel, table=True):
    """Portal-owned contact details the EHR Patient row has no column for."""

    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    preferred_pharmacy: str | None = Field(default=None, max_length=200)
    communication_preference: str | None = Field(default=None, max_length=64)
    emergency_contact: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)


class ProfileChangeStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ProfileChangeRequest(SQLModel, table=True):
    """One field a patient asked to change; applied only when staff accept it."""

    __table_args__ = (Index("ix_profilechange_patient_status", "patient_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    field: str = Field(max_length=64)
    old_value: str | None = Field(default=None, max_length=500)
    new_value: str = Field(max_length=500)
    status: str = Field(default=ProfileChangeStatus.PENDING, max_length=32)
    decision_reason: str | None = Field(default=None, max_length=2000)
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class TriageStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_ON_PATIENT = "waiting_on_patient"
    CLOSED = "closed"


OPEN_TRIAGE_STATUSES = (
    TriageStatus.NEW,
    TriageStatus.IN_PROGRESS,
    TriageStatus.WAITING_ON_PATIENT,
)


class TriageItem(SQLModel, table=True):
    """One patient request in the staff inbox. ``version`` guards every staff action.

    Statuses and kinds are plain strings (not database enums) so later request types and states
    need no ALTER TYPE on PostgreSQL.
    """

    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="uq_triageitem_kind_ref"),
        Index("ix_triageitem_status_due", "status", "due_at"),
        Index("ix_triageitem_kind_status_due", "kind", "status", "due_at"),
        Index("ix_triageitem_assignee_status_due", "assignee_user_id", "status", "due_at"),
        # The dashboard counts requests created in a period.
        Index("ix_triageitem_created", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # message / refill / profile_change / (later kinds)
    ref_id: int
    patient_id: int = Field(foreign_key="patient.id", index=True)
    status: str = Field(default=TriageStatus.NEW, max_length=32)
    priority: int = 2  # 1 urgent, 2 normal, 3 low; lower sorts first
    summary: str = Field(default="", max_length=200)
    assignee_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    due_at: datetime
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    version: int = 1


class TriageEvent(SQLModel, table=True):
    """History of a triage item: who did what, when, and why."""

    __table_args__ = (
        Index("ix_triageevent_item_at", "item_id", "at"),
        # The dashboard's first-response times read the events of a period.
        Index("ix_triageevent_at", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="triageitem.id")
    at: datetime = Field(default_factory=utcnow)
    actor_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    action: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    detail: str | None = Field(default=None, max_length=2000)


class Notification(SQLModel, table=True):
    """An in-app note to a patient's record (seen by the patient and their proxies)."""

    __table_args__ = (
        Index("ix_notification_patient_read_created", "patient_id", "read_at", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    kind: str = Field(max_length=32)
    text: str = Field(max_length=500)
    link_page: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None


class ReplyTemplate(SQLModel, table=True):
    """A saved reply staff can pick in the reply box."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100, unique=True)
    body: str = Field(max_length=4000)
    active: bool = True
