"""Open slots, computed from weekly templates minus exceptions, bookings and held offers.

Slots are not stored: a template change shows at once, and a booking row is the only thing that
claims time. Templates are in clinic local time, so a 9:00 start stays 9:00 across DST changes.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, or_, select

from db.models import (
    Booking,
    BookingStatus,
    OfferStatus,
    Practitioner,
    ScheduleException,
    ScheduleTemplate,
    VisitMode,
    WaitlistEntry,
    WaitlistOffer,
)
from portal.config import get_settings
from portal.services.scheduling.errors import SlotInPast, SlotNotOffered, SlotTaken
from portal.services.scheduling.visit_types import label, parse_codes


@dataclass(frozen=True)
class Slot:
    practitioner_id: int
    start: datetime
    end: datetime
    visit_types: tuple[str, ...]
    in_person: bool
    video: bool

    def allows(self, visit_type: str, mode: str | None) -> bool:
        if visit_type not in self.visit_types:
            return False
        if mode == VisitMode.VIDEO:
            return self.video
        if mode == VisitMode.IN_PERSON:
            return self.in_person
        return True


def _template_slots(templates: list[ScheduleTemplate], first: date, last: date) -> list[Slot]:
    tz = get_settings().tz
    slots: list[Slot] = []
    codes = {t.id: tuple(parse_codes(t.visit_types)) for t in templates}  # once per template
    day = first
    while day <= last:
        for t in templates:
            if t.weekday != day.weekday() or t.slot_minutes <= 0:
                continue
            step = timedelta(minutes=t.slot_minutes)
            local = datetime.combine(day, t.start_time, tzinfo=tz)
            close = datetime.combine(day, t.end_time, tzinfo=tz)
            while local + step <= close:
                slots.append(
                    Slot(
                        practitioner_id=t.practitioner_id,
                        start=local.astimezone(UTC),
                        end=(local + step).astimezone(UTC),
                        visit_types=codes[t.id],
                        in_person=t.in_person,
                        video=t.video,
                    )
                )
                local += step
        day += timedelta(days=1)
    return slots


def _matches(slot: Slot, visit_type: str | None, mode: str | None) -> bool:
    if visit_type is not None:
        return slot.allows(visit_type, mode)
    if mode == VisitMode.VIDEO:
        return slot.video
    if mode == VisitMode.IN_PERSON:
        return slot.in_person
    return True


def _overlaps(slot: Slot, start: datetime, end: datetime) -> bool:
    return slot.start < end and start < slot.end


def _busy(
    session: Session,
    practitioner_ids: list[int],
    start: datetime,
    end: datetime,
    patient_id: int | None,
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Time each practitioner cannot offer: exceptions, active bookings, offers held for others."""
    busy: dict[int | None, list[tuple[datetime, datetime]]] = {}
    exceptions = session.exec(
        select(ScheduleException).where(
            or_(
                col(ScheduleException.practitioner_id).in_(practitioner_ids),
                col(ScheduleException.practitioner_id).is_(None),
            ),
            ScheduleException.start < end,
            ScheduleException.end > start,
        )
    ).all()
    for e in exceptions:
        busy.setdefault(e.practitioner_id, []).append((e.start, e.end))
    bookings = session.exec(
        select(Booking.practitioner_id, Booking.start, Booking.end).where(
            col(Booking.practitioner_id).in_(practitioner_ids),
            Booking.status != BookingStatus.CANCELLED,
            Booking.start < end,
            Booking.end > start,
        )
    ).all()
    for pid, b_start, b_end in bookings:
        busy.setdefault(pid, []).append((b_start, b_end))
    offers = session.exec(
        select(WaitlistOffer, WaitlistEntry.patient_id)
        .join(WaitlistEntry, col(WaitlistEntry.id) == WaitlistOffer.entry_id)
        .where(
            col(WaitlistOffer.practitioner_id).in_(practitioner_ids),
            WaitlistOffer.status == OfferStatus.OPEN,
            WaitlistOffer.start < end,
            WaitlistOffer.end > start,
        )
    ).all()
    for offer, holder in offers:
        if holder != patient_id:  # the patient the slot is held for may still take it
            busy.setdefault(offer.practitioner_id, []).append((offer.start, offer.end))
    clinic_wide = busy.pop(None, [])
    return {pid: busy.get(pid, []) + clinic_wide for pid in practitioner_ids}


# Days of slots built at a time: the earliest ``limit`` free slots are usually in the first
# days, so a 60-day horizon is only walked as far as needed (issue 17).
CHUNK_DAYS = 7


def open_slots(
    *,
    session: Session,
    now: datetime,
    start: datetime,
    end: datetime,
    practitioner_id: int | None = None,
    visit_type: str | None = None,
    mode: str | None = None,
    patient_id: int | None = None,
    limit: int = 500,
) -> list[Slot]:
    """Free future slots between ``start`` and ``end`` matching the filters, earliest first.

    Built a week at a time, stopping once ``limit`` are found."""
    query = select(ScheduleTemplate).where(col(ScheduleTemplate.active).is_(True))
    if practitioner_id is not None:
        query = query.where(ScheduleTemplate.practitioner_id == practitioner_id)
    templates = list(session.exec(query).all())
    if not templates:
        return []
    start = max(start, now)
    tz = get_settings().tz
    pids = sorted({t.practitioner_id for t in templates})
    last_day = end.astimezone(tz).date()
    day = start.astimezone(tz).date()
    found: dict[tuple[int, datetime], Slot] = {}
    while day <= last_day and len(found) < limit:
        chunk_last = min(day + timedelta(days=CHUNK_DAYS - 1), last_day)
        slots = _template_slots(templates, day, chunk_last)
        if slots:
            window_start = max(start, min(s.start for s in slots))
            window_end = min(end, max(s.end for s in slots))
            busy = _busy(session, pids, window_start, window_end, patient_id)
            free = [s for s in slots if _is_free(s, start, end, now, visit_type, mode, busy)]
            # Two templates may describe the same time (video and in-person blocks): offer once.
            for slot in sorted(free, key=lambda s: s.start):
                found[(slot.practitioner_id, slot.start)] = slot
        day = chunk_last + timedelta(days=1)
    return sorted(found.values(), key=lambda s: (s.start, s.practitioner_id))[:limit]


def _is_free(
    slot: Slot,
    start: datetime,
    end: datetime,
    now: datetime,
    visit_type: str | None,
    mode: str | None,
    busy: dict[int, list[tuple[datetime, datetime]]],
) -> bool:
    return (
        start <= slot.start
        and slot.end <= end
        and slot.start > now
        and (visit_type is None or slot.allows(visit_type, mode))
        and (
            mode is None or slot.allows(visit_type or slot.visit_types[0], mode)
            if slot.visit_types
            else False
        )
        and not any(
            slot.start < b_end and b_start < slot.end
            for b_start, b_end in busy[slot.practitioner_id]
        )
    )


def check_bookable(
    *,
    session: Session,
    now: datetime,
    practitioner_id: int,
    start: datetime,
    visit_type: str,
    mode: str,
    patient_id: int | None,
    ignore_booking_id: int | None = None,
) -> Slot:
    """The template slot at ``start``, or the specific reason it cannot be booked."""
    if start <= now:
        raise SlotInPast()
    templates = list(
        session.exec(
            select(ScheduleTemplate).where(
                col(ScheduleTemplate.active).is_(True),
                ScheduleTemplate.practitioner_id == practitioner_id,
            )
        ).all()
    )
    day = start.astimezone(get_settings().tz).date()
    candidates = [s for s in _template_slots(templates, day, day) if s.start == start]
    if not candidates:
        raise SlotNotOffered("That provider has no appointment at that time.")
    matching = [s for s in candidates if s.allows(visit_type, mode)]
    if not matching:
        practitioner = session.get(Practitioner, practitioner_id)
        who = practitioner.name if practitioner else "That provider"
        how = "by video" if mode == VisitMode.VIDEO else "in person"
        raise SlotNotOffered(f"{who} does not offer {label(visit_type)} visits {how} at that time.")
    slot = matching[0]
    closed = session.exec(
        select(ScheduleException.id).where(
            or_(
                ScheduleException.practitioner_id == practitioner_id,
                col(ScheduleException.practitioner_id).is_(None),
            ),
            ScheduleException.start < slot.end,
            ScheduleException.end > slot.start,
        )
    ).first()
    if closed is not None:
        raise SlotNotOffered("The clinic is closed at that time (holiday or time off).")
    blocked = _busy(session, [practitioner_id], slot.start, slot.end, patient_id)[practitioner_id]
    if ignore_booking_id is not None:
        own = session.get(Booking, ignore_booking_id)
        if own is not None:
            blocked = [b for b in blocked if b != (own.start, own.end)]
    if any(_overlaps(slot, b_start, b_end) for b_start, b_end in blocked):
        raise SlotTaken()
    return slot
