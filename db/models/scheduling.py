"""Scheduling: templates, exceptions, bookings, waitlist, check-in, reminders, visit requests."""

from datetime import datetime, time
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from portal.clock import utcnow

# Templates say when a practitioner works (in clinic local time); exceptions cut time out of
# them; Booking is a portal-owned visit. Synced FHIR Appointment rows stay as they are: a booking
# may later be written back to the EHR and linked by appointment_id.


class VisitMode(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class ScheduleTemplate(SQLModel, table=True):
    """One weekly block: a practitioner sees these visit types on this weekday, in these hours."""

    __table_args__ = (
        Index("ix_scheduletemplate_practitioner_weekday", "practitioner_id", "weekday"),
    )
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id")
    weekday: int  # 0 = Monday, clinic local time
    start_time: time
    end_time: time
    slot_minutes: int = 20
    visit_types: str = Field(default="follow_up", max_length=500)  # comma-separated codes
    in_person: bool = True
    video: bool = False
    active: bool = True


class ScheduleException(SQLModel, table=True):
    """Time off or a holiday. No practitioner means the whole clinic is closed."""

    __table_args__ = (Index("ix_scheduleexception_practitioner_start", "practitioner_id", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    start: datetime
    end: datetime
    reason: str = Field(default="", max_length=200)
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")


class BookingStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Booking(SQLModel, table=True):
    """A visit booked in the portal.

    The partial unique index is what makes double booking impossible: two sessions inserting the
    same practitioner and start both pass every check in Python, and the database lets one commit.
    A cancelled row drops out of the index, so its slot can be booked again.
    """

    __table_args__ = (
        Index(
            "uq_booking_active_slot",
            "practitioner_id",
            "start",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_booking_patient_start", "patient_id", "start"),
        Index("ix_booking_status_start", "status", "start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    practitioner_id: int = Field(foreign_key="practitioner.id")
    start: datetime
    end: datetime
    visit_type: str = Field(max_length=64)
    mode: str = Field(default=VisitMode.IN_PERSON, max_length=16)
    status: str = Field(default=BookingStatus.BOOKED, max_length=16)
    video_room: str | None = Field(default=None, max_length=100)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    booked_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=200)
    arrived_at: datetime | None = None
    rescheduled_from_id: int | None = Field(default=None, foreign_key="booking.id")


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"
    CANCELLED = "cancelled"


class WaitlistEntry(SQLModel, table=True):
    """A patient asking for an earlier slot than ``before`` (their booking, or any date)."""

    __table_args__ = (Index("ix_waitlistentry_status_created", "status", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    visit_type: str = Field(max_length=64)
    mode: str | None = Field(default=None, max_length=16)  # None: either
    before: datetime
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    status: str = Field(default=WaitlistStatus.WAITING, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class WaitlistOffer(SQLModel, table=True):
    """A freed slot held for one waitlisted patient until ``expires_at``; then the next one."""

    __table_args__ = (
        Index(
            "uq_waitlistoffer_open_slot",
            "practitioner_id",
            "start",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_waitlistoffer_status_expires", "status", "expires_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="waitlistentry.id", index=True)
    practitioner_id: int = Field(foreign_key="practitioner.id")
    start: datetime
    end: datetime
    visit_type: str = Field(max_length=64)
    mode: str = Field(max_length=16)
    status: str = Field(default=OfferStatus.OPEN, max_length=16)
    offered_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class CheckIn(SQLModel, table=True):
    """A patient's pre-visit check-in: what they confirmed, with answers in CheckInAnswer."""

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", unique=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    questionnaire: str = Field(max_length=64)
    contact_confirmed: bool = False
    medications_confirmed: bool = False
    allergies_confirmed: bool = False
    notes: str | None = Field(default=None, max_length=2000)
    score: int | None = None
    submitted_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    submitted_at: datetime = Field(default_factory=utcnow)


class CheckInAnswer(SQLModel, table=True):
    """One structured answer; the question text is copied so later edits never change history."""

    __table_args__ = (UniqueConstraint("checkin_id", "question_code", name="uq_checkinanswer_q"),)
    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkin.id")
    question_code: str = Field(max_length=64)
    question_text: str = Field(max_length=500)
    answer_text: str = Field(max_length=500)
    answer_value: int | None = None


class ReminderSent(SQLModel, table=True):
    """A reminder that went out. The unique key lets two job runs race and still send once."""

    __table_args__ = (
        UniqueConstraint("booking_id", "offset_hours", name="uq_remindersent_booking_offset"),
    )
    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id")
    offset_hours: int
    sent_at: datetime = Field(default_factory=utcnow)
    emailed: bool = False


class VisitRequestStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    CLOSED = "closed"


class VisitRequest(SQLModel, table=True):
    """A patient asking for a visit when no open slot suits; staff work it from the triage inbox."""

    __table_args__ = (Index("ix_visitrequest_patient_status", "patient_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    visit_type: str = Field(max_length=64)
    mode: str | None = Field(default=None, max_length=16)
    preferred_times: str = Field(default="", max_length=500)
    # Weekdays (0 = Monday, comma-separated) and parts of the day ("morning,afternoon") that
    # suit the patient; empty means any. Staff book from the request with slots filtered by them.
    preferred_days: str = Field(default="", max_length=20)
    preferred_parts: str = Field(default="", max_length=40)
    reason: str = Field(default="", max_length=2000)
    status: str = Field(default=VisitRequestStatus.OPEN, max_length=16)
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
