"""Visits the EHR knows about (synced FHIR Appointment rows), for the patient's appointments page.

They are read-only in the portal: the clinic changes them in the EHR. A portal booking that was
written back to the EHR and synced again must not show twice, so an appointment is left out
when a booking links to it (``Booking.appointment_id``) or when a booking of the same patient
holds the same provider and start time.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from db.models import Appointment, Booking, BookingStatus, Practitioner, User
from portal.services import audit
from portal.services.access import require_patient_access

CATEGORY = "appointments"
# FHIR Appointment.status values that mean the visit is still going to happen.
UPCOMING_STATUSES = ("proposed", "pending", "booked", "arrived", "checked-in", "waitlist")
STATUS_WORDS = {
    "proposed": "Proposed",
    "pending": "Requested",
    "booked": "Booked",
    "arrived": "Arrived",
    "checked-in": "Checked in",
    "fulfilled": "Completed",
    "cancelled": "Cancelled",
    "noshow": "Missed",
    "entered-in-error": "Entered in error",
    "waitlist": "On the waitlist",
}


@dataclass(frozen=True)
class EhrVisit:
    appointment_id: int
    start: datetime | None
    end: datetime | None
    status: str
    service_type: str
    description: str
    practitioner_name: str

    @property
    def title(self) -> str:
        what = self.service_type or "Visit"
        return f"{what} with {self.practitioner_name}" if self.practitioner_name else what

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status.replace("-", " ").capitalize())


def _written_back(appointment: Appointment, bookings: list[Booking]) -> bool:
    for booking in bookings:
        if booking.appointment_id == appointment.id:
            return True
        if (
            booking.status != BookingStatus.CANCELLED
            and appointment.practitioner_id == booking.practitioner_id
            and appointment.start is not None
            and appointment.start == booking.start
        ):
            return True
    return False


def list_ehr_visits(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> tuple[list[EhrVisit], list[EhrVisit]]:
    """(upcoming, past) EHR appointments of a patient that are not portal bookings."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    rows = session.exec(
        select(Appointment, Practitioner.name)
        .outerjoin(Practitioner, col(Appointment.practitioner_id) == Practitioner.id)
        .where(Appointment.patient_id == patient_id, col(Appointment.start).is_not(None))
        .order_by(col(Appointment.start), col(Appointment.id))
    ).all()
    bookings = list(session.exec(select(Booking).where(Booking.patient_id == patient_id)).all())
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="read",
        patient_id=patient_id,
        detail="EHR visit list",
        now=now,
    )
    session.commit()
    visits = [
        (
            appointment,
            EhrVisit(
                appointment_id=appointment.id,
                start=appointment.start,
                end=appointment.end,
                status=appointment.status,
                service_type=appointment.service_type,
                description=appointment.description or "",
                practitioner_name=name or "",
            ),
        )
        for appointment, name in rows
        if not _written_back(appointment, bookings)
    ]
    upcoming = [v for a, v in visits if a.start >= now and a.status in UPCOMING_STATUSES]
    past = [
        v for a, v in reversed(visits) if not (a.start >= now and a.status in UPCOMING_STATUSES)
    ]
    return upcoming, past
