"""Book, cancel, reschedule and mark visits. The database decides who gets a contested slot."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from db.models import Booking, BookingStatus, Patient, Practitioner, User, VisitMode
from portal.config import get_settings
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit, writeback
from portal.services.access import is_staff, require_patient_access
from portal.services.audited_reads import LISTED_ON_CALENDAR, log_read
from portal.services.permissions import may, require_permission
from portal.services.rows import get_or_not_found
from portal.services.scheduling import availability, video
from portal.services.scheduling.errors import (
    AlreadyCancelled,
    DuplicateVisit,
    SlotTaken,
    TooLateToChange,
)
from portal.services.scheduling.notices import when
from portal.services.scheduling.visit_types import label
from portal.timefmt import to_local

CATEGORY = "appointments"
ACTIVE = (BookingStatus.BOOKED, BookingStatus.ARRIVED)

_MISSING_VISIT = "We could not find that visit."


@dataclass(frozen=True)
class VisitRow:
    """A booking with the names a page shows next to it."""

    booking: Booking
    practitioner_name: str
    patient_name: str

    @property
    def title(self) -> str:
        return f"{label(self.booking.visit_type)} with {self.practitioner_name}"


def _audit(
    session: Session, actor: User, action: str, patient_id: int, now: datetime, detail: str
) -> None:
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action=action,
        patient_id=patient_id,
        detail=detail,
        now=now,
    )


def book(
    actor: User,
    *,
    session: Session,
    now: datetime,
    patient_id: int,
    practitioner_id: int,
    start: datetime,
    visit_type: str,
    mode: str = VisitMode.IN_PERSON,
    commit: bool = True,
) -> Booking:
    """Book an open slot for a patient; raises SlotTaken if anyone else got there first.
    ``commit=False`` leaves the transaction open for a caller that changes more with it."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    if mode not in (VisitMode.IN_PERSON, VisitMode.VIDEO):
        raise InvalidInput("Please choose in person or video.")
    horizon = now + timedelta(days=get_settings().booking_horizon_days)
    # Staff who book for patients may book past the online horizon (the patient asked them).
    if start > horizon and not may(actor, Action.BOOK_FOR_PATIENTS, session=session):
        raise InvalidInput("That date is too far ahead to book online. Please call the clinic.")
    slot = availability.check_bookable(
        session=session,
        now=now,
        practitioner_id=practitioner_id,
        start=start,
        visit_type=visit_type,
        mode=mode,
        patient_id=patient_id,
    )
    refuse_duplicate(
        session,
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        start=slot.start,
        end=slot.end,
        visit_type=visit_type,
        actor=actor,
    )
    booking = Booking(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        start=slot.start,
        end=slot.end,
        visit_type=visit_type,
        mode=mode,
        video_room=video.new_room_name() if mode == VisitMode.VIDEO else None,
        booked_by_user_id=actor.id,
        created_at=now,
    )
    return _insert(session, booking, actor, now, "book", commit=commit)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def refuse_duplicate(
    session: Session,
    *,
    patient_id: int,
    practitioner_id: int,
    start: datetime,
    end: datetime,
    visit_type: str,
    actor: User,
    ignore_booking_id: int | None = None,
) -> None:
    """One patient, one place at a time: refuse a visit that overlaps another of theirs, or the
    same kind of visit with the same provider on the same (clinic-local) day."""
    day = to_local(start).date()
    if actor.patient_id == patient_id:
        subject = "You already have"
    else:
        patient = session.get(Patient, patient_id)
        subject = f"{patient.display_name if patient else 'This patient'} already has"
    # A local day is at most 25 hours long, so a two-day window around it holds every candidate.
    candidates = session.exec(
        select(Booking).where(
            Booking.patient_id == patient_id,
            col(Booking.status).in_(ACTIVE),
            Booking.start < end + timedelta(days=1),
            Booking.end > start - timedelta(days=1),
        )
    ).all()
    for other in candidates:
        if other.id == ignore_booking_id:
            continue
        names = _rows(session, [other])[0]
        if other.start < end and other.end > start:
            raise DuplicateVisit(
                f"{subject} a visit at that time ({names.title}, {when(other.start)}). "
                "Please pick another time, or change that visit instead."
            )
        if (
            other.visit_type == visit_type
            and other.practitioner_id == practitioner_id
            and to_local(other.start).date() == day
        ):
            raise DuplicateVisit(
                f"{subject} {_a(label(visit_type))} with {names.practitioner_name} that day "
                f"({when(other.start)}). Please change that visit instead of booking another."
            )


def _insert(
    session: Session,
    booking: Booking,
    actor: User,
    now: datetime,
    action: str,
    *,
    commit: bool = True,
) -> Booking:
    # The checks above read a snapshot; another session may commit the same slot between them
    # and our INSERT. The partial unique index uq_booking_active_slot turns that race into an
    # IntegrityError for exactly one of the two.
    try:
        session.add(booking)
        session.flush()
        writeback.booking_changed(session, booking, now=now)
        _audit(session, actor, action, booking.patient_id, now, f"booking {booking.id}")
        if commit:
            session.commit()
    except IntegrityError:
        session.rollback()
        raise SlotTaken() from None
    return booking


def _get_for(actor: User, booking_id: int, *, session: Session, now: datetime) -> Booking:
    booking = get_or_not_found(session, Booking, booking_id, _MISSING_VISIT)
    require_patient_access(actor, booking.patient_id, session=session, category=CATEGORY, now=now)
    return booking


def can_change_online(booking: Booking, now: datetime) -> bool:
    """Patients may cancel or move a visit themselves until the clinic's cut-off; the cut-off
    binds only visits booked before it: a visit booked inside it (today for tomorrow) stays
    changeable online for a grace period after booking."""
    settings = get_settings()
    if booking.status != BookingStatus.BOOKED or booking.start <= now:
        return False
    if booking.start - now >= timedelta(hours=settings.cancel_cutoff_hours):
        return True
    return now - booking.created_at <= timedelta(minutes=settings.cancel_grace_minutes)


def _check_changeable(actor: User, booking: Booking, now: datetime, *, session: Session) -> None:
    if booking.status == BookingStatus.CANCELLED:
        raise AlreadyCancelled()
    if booking.status != BookingStatus.BOOKED:
        raise InvalidInput("This visit has already taken place and cannot be changed.")
    # Staff who book for patients change visits inside the cut-off too (by phone, at the desk).
    late = not can_change_online(booking, now)
    if late and not may(actor, Action.BOOK_FOR_PATIENTS, session=session):
        raise TooLateToChange(get_settings().cancel_cutoff_hours)


def cancel(
    actor: User, booking_id: int, *, session: Session, now: datetime, reason: str = ""
) -> Booking:
    """Cancel a visit (patients: only before the cut-off) and offer the slot to the waitlist."""
    booking = _get_for(actor, booking_id, session=session, now=now)
    _check_changeable(actor, booking, now, session=session)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = (reason or ("by staff" if is_staff(actor) else "by patient"))[:200]
    session.add(booking)
    writeback.booking_changed(session, booking, now=now)
    _audit(session, actor, "cancel", booking.patient_id, now, f"booking {booking.id}")
    session.commit()
    _offer_to_waitlist(session, booking, now)
    return booking


def _offer_to_waitlist(session: Session, booking: Booking, now: datetime) -> None:
    from portal.services.scheduling import waitlist  # waitlist books through this module

    waitlist.offer_freed_slot(
        session=session,
        now=now,
        practitioner_id=booking.practitioner_id,
        start=booking.start,
        end=booking.end,
    )


def reschedule(
    actor: User,
    booking_id: int,
    *,
    session: Session,
    now: datetime,
    new_start: datetime,
    practitioner_id: int | None = None,
    visit_type: str | None = None,
    mode: str | None = None,
) -> Booking:
    """Move a visit to another open slot in one transaction: the old slot frees only if the new
    one is won."""
    old = _get_for(actor, booking_id, session=session, now=now)
    _check_changeable(actor, old, now, session=session)
    practitioner_id = practitioner_id or old.practitioner_id
    visit_type = visit_type or old.visit_type
    mode = mode or old.mode
    slot = availability.check_bookable(
        session=session,
        now=now,
        practitioner_id=practitioner_id,
        start=new_start,
        visit_type=visit_type,
        mode=mode,
        patient_id=old.patient_id,
        ignore_booking_id=old.id,
    )
    refuse_duplicate(
        session,
        patient_id=old.patient_id,
        practitioner_id=practitioner_id,
        start=slot.start,
        end=slot.end,
        visit_type=visit_type,
        actor=actor,
        ignore_booking_id=old.id,
    )
    old.status = BookingStatus.CANCELLED
    old.cancelled_at = now
    old.cancel_reason = "rescheduled"
    session.add(old)
    session.flush()  # leave the partial index before the new row may reuse a nearby time
    writeback.booking_changed(session, old, now=now)
    new = Booking(
        patient_id=old.patient_id,
        practitioner_id=practitioner_id,
        start=slot.start,
        end=slot.end,
        visit_type=visit_type,
        mode=mode,
        video_room=old.video_room or (video.new_room_name() if mode == VisitMode.VIDEO else None),
        booked_by_user_id=actor.id,
        created_at=now,
        rescheduled_from_id=old.id,
    )
    new = _insert(session, new, actor, now, "reschedule")
    _offer_to_waitlist(session, old, now)
    return new


def _rows(session: Session, bookings: list[Booking]) -> list[VisitRow]:
    prac_ids = {b.practitioner_id for b in bookings}
    pat_ids = {b.patient_id for b in bookings}
    pracs = {
        p.id: p.name
        for p in session.exec(select(Practitioner).where(col(Practitioner.id).in_(prac_ids))).all()
    }
    pats = {
        p.id: p.display_name
        for p in session.exec(select(Patient).where(col(Patient.id).in_(pat_ids))).all()
    }
    return [
        VisitRow(b, pracs.get(b.practitioner_id, "?"), pats.get(b.patient_id, "?"))
        for b in bookings
    ]


def list_for_patient(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> tuple[list[VisitRow], list[VisitRow]]:
    """(upcoming, past) visits of a patient; upcoming soonest first, past newest first."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    bookings = list(
        session.exec(
            select(Booking).where(Booking.patient_id == patient_id).order_by(col(Booking.start))
        ).all()
    )
    _audit(session, actor, "read", patient_id, now, "visit list")
    session.commit()
    rows = _rows(session, bookings)
    upcoming = [r for r in rows if r.booking.end > now and r.booking.status in ACTIVE]
    past = [r for r in reversed(rows) if r not in upcoming]
    return upcoming, past


def get_visit(actor: User, booking_id: int, *, session: Session, now: datetime) -> VisitRow:
    booking = _get_for(actor, booking_id, session=session, now=now)
    _audit(session, actor, "read", booking.patient_id, now, f"booking {booking.id}")
    session.commit()
    return _rows(session, [booking])[0]


def day_calendar(
    actor: User,
    *,
    session: Session,
    now: datetime,
    practitioner_id: int,
    day_start: datetime,
    day_end: datetime,
) -> list[VisitRow]:
    """A practitioner's visits between two instants (staff only), cancelled ones included."""
    require_permission(actor, Action.BOOK_FOR_PATIENTS, session=session, now=now)
    bookings = list(
        session.exec(
            select(Booking)
            .where(
                Booking.practitioner_id == practitioner_id,
                Booking.start >= day_start,
                Booking.start < day_end,
            )
            .order_by(col(Booking.start), col(Booking.id))
        ).all()
    )
    audit.record_listed(
        session=session,
        actor=actor,
        category=LISTED_ON_CALENDAR,
        patient_ids=[b.patient_id for b in bookings],
        detail=f"calendar practitioner {practitioner_id}",
        now=now,
    )
    session.commit()
    return _rows(session, bookings)


def mark(actor: User, booking_id: int, status: str, *, session: Session, now: datetime) -> Booking:
    """Staff mark a booked visit arrived, no-show or completed."""
    require_permission(actor, Action.BOOK_FOR_PATIENTS, session=session, now=now)
    if status not in (BookingStatus.ARRIVED, BookingStatus.NO_SHOW, BookingStatus.COMPLETED):
        raise InvalidInput("Unknown visit status.")
    booking = get_or_not_found(session, Booking, booking_id, _MISSING_VISIT)
    if booking.status == BookingStatus.CANCELLED:
        raise AlreadyCancelled()
    booking.status = status
    if status == BookingStatus.ARRIVED:
        booking.arrived_at = now
    session.add(booking)
    _audit(session, actor, f"mark_{status}", booking.patient_id, now, f"booking {booking.id}")
    session.commit()
    return booking


def no_show_count(actor: User, patient_id: int, *, session: Session) -> int:
    """How many visits this patient missed (shown to staff when booking)."""
    require_permission(
        actor, Action.BOOK_FOR_PATIENTS, session=session, now=None, patient_id=patient_id
    )
    count = session.exec(
        select(func.count())
        .select_from(Booking)
        .where(Booking.patient_id == patient_id, Booking.status == BookingStatus.NO_SHOW)
    ).one()
    log_read(actor, patient_id, session=session, category="viewed missed visits")
    return count
