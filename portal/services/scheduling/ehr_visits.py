"""Visits the EHR knows about (synced FHIR Appointment rows), for the patient's appointments page.

They are read-only in the portal: the clinic changes them in the EHR. A portal booking that was
written back to the EHR and synced again must not show twice, so an appointment is left out
when a booking links to it (``Booking.appointment_id``) or when a booking of the same patient
holds the same provider and start time.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from db.models import Appointment, Booking, BookingStatus, Patient, Practitioner, User, saved_id
from portal.services import audited_reads
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
    start: datetime  # the readers list only appointments with a start (see _to_visit)
    end: datetime | None
    status: str
    service_type: str
    description: str
    practitioner_name: str
    patient_name: str = ""
    patient_id: int | None = None

    @property
    def title(self) -> str:
        what = self.service_type or "Visit"
        return f"{what} with {self.practitioner_name}" if self.practitioner_name else what

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status.replace("-", " ").capitalize())


def _to_visit(
    appointment: Appointment, practitioner_name: str | None, patient_name: str = ""
) -> EhrVisit:
    # Both readers' queries leave out appointments without a start (IS NOT NULL, a time range).
    if appointment.start is None:
        raise ValueError(f"Appointment {appointment.id} has no start: it cannot be listed")
    return EhrVisit(
        appointment_id=saved_id(appointment),
        start=appointment.start,
        end=appointment.end,
        status=appointment.status,
        service_type=appointment.service_type,
        description=appointment.description or "",
        practitioner_name=practitioner_name or "",
        patient_name=patient_name,
        patient_id=appointment.patient_id,
    )


def is_upcoming(appointment: Appointment | EhrVisit, now: datetime) -> bool:
    """Still to happen: not over yet (start + 0 when the EHR gave no end) and not closed."""
    ends = appointment.end or appointment.start
    return ends is not None and ends > now and appointment.status in UPCOMING_STATUSES


def _written_back(appointment: Appointment, bookings: list[Booking]) -> bool:
    for booking in bookings:
        if booking.appointment_id == appointment.id:
            return True
        if (
            booking.status != BookingStatus.CANCELLED
            and appointment.patient_id == booking.patient_id
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
    audited_reads.log_read(
        actor, patient_id, session=session, category=CATEGORY, detail="EHR visit list", now=now
    )
    visits = [
        _to_visit(appointment, name)
        for appointment, name in rows
        if not _written_back(appointment, bookings)
    ]
    upcoming = [v for v in visits if is_upcoming(v, now)]
    past = [v for v in reversed(visits) if not is_upcoming(v, now)]
    return upcoming, past


def for_practitioner(
    *, session: Session, practitioner_id: int, start: datetime, end: datetime
) -> list[EhrVisit]:
    """EHR appointments with a practitioner starting in [start, end) that are not portal
    bookings (the caller checks staff access and audits the calendar read)."""
    rows = session.exec(
        select(Appointment, Patient.given_name, Patient.family_name)
        .join(Patient, col(Appointment.patient_id) == Patient.id)
        .where(
            Appointment.practitioner_id == practitioner_id,
            col(Appointment.start) >= start,
            col(Appointment.start) < end,
        )
        .order_by(col(Appointment.start), col(Appointment.id))
    ).all()
    if not rows:
        return []
    bookings = list(
        session.exec(
            select(Booking).where(
                Booking.practitioner_id == practitioner_id,
                Booking.start >= start,
                Booking.start < end,
            )
        ).all()
    )
    linked = {
        b.appointment_id
        for b in session.exec(
            select(Booking).where(col(Booking.appointment_id).in_([a.id for a, _, _ in rows]))
        ).all()
    }
    name = session.get(Practitioner, practitioner_id)
    return [
        _to_visit(appointment, name.name if name else "", f"{given} {family}".strip())
        for appointment, given, family in rows
        if appointment.id not in linked and not _written_back(appointment, bookings)
    ]
