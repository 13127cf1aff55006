"""Waitlist: patients ask for an earlier slot; a freed slot is held for the first matching
patient for a limited time, then offered to the next."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import (
    Booking,
    BookingStatus,
    OfferStatus,
    User,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
    saved_id,
)
from portal.config import get_settings
from portal.errors import InvalidInput, PortalError
from portal.services import audit, notifications
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.rows import get_or_not_found
from portal.services.scheduling import availability, booking, notices
from portal.services.scheduling.availability import Slot
from portal.services.scheduling.errors import OfferExpired
from portal.services.scheduling.visit_types import VISIT_TYPES, label

CATEGORY = "appointments"


@dataclass(frozen=True)
class WaitlistView:
    entries: list[WaitlistEntry]
    offers: list[WaitlistOffer]


def join(
    actor: User,
    *,
    session: Session,
    now: datetime,
    patient_id: int,
    visit_type: str,
    practitioner_id: int | None = None,
    mode: str | None = None,
    booking_id: int | None = None,
) -> WaitlistEntry:
    """Ask for an earlier slot than the patient's booking (or than the booking horizon)."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    if visit_type not in VISIT_TYPES:
        raise InvalidInput("Please choose a visit type.")
    before = now + timedelta(days=get_settings().booking_horizon_days)
    if booking_id is not None:
        held = session.get(Booking, booking_id)
        if held is None or held.patient_id != patient_id or held.status != BookingStatus.BOOKED:
            raise InvalidInput("That visit cannot be moved earlier.")
        before, practitioner_id = held.start, practitioner_id or held.practitioner_id
    entry = WaitlistEntry(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        visit_type=visit_type,
        mode=mode,
        before=before,
        booking_id=booking_id,
        created_at=now,
    )
    session.add(entry)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="waitlist_join",
        patient_id=patient_id,
        now=now,
    )
    session.commit()
    return entry


def leave(actor: User, entry_id: int, *, session: Session, now: datetime) -> None:
    entry = get_or_not_found(session, WaitlistEntry, entry_id)
    require_patient_access(actor, entry.patient_id, session=session, category=CATEGORY, now=now)
    entry.status = WaitlistStatus.CANCELLED
    session.add(entry)
    for offer in session.exec(
        select(WaitlistOffer).where(
            WaitlistOffer.entry_id == entry.id, WaitlistOffer.status == OfferStatus.OPEN
        )
    ).all():
        _pass_on(session, offer, OfferStatus.DECLINED, now)
    audit.record(
        session=session, actor=actor, category=CATEGORY, action="leave waitlist",
        patient_id=entry.patient_id, detail=f"waitlist entry {entry.id}", now=now,
    )  # fmt: skip
    session.commit()


def view(actor: User, patient_id: int, *, session: Session, now: datetime) -> WaitlistView:
    """The patient's waiting entries and the offers open to them now."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    entries = session.exec(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.patient_id == patient_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .order_by(col(WaitlistEntry.created_at))
    ).all()
    offers = session.exec(
        select(WaitlistOffer)
        .join(WaitlistEntry, col(WaitlistEntry.id) == WaitlistOffer.entry_id)
        .where(
            WaitlistEntry.patient_id == patient_id,
            WaitlistOffer.status == OfferStatus.OPEN,
            WaitlistOffer.expires_at > now,
        )
        .order_by(col(WaitlistOffer.start))
    ).all()
    log_read(actor, patient_id, session=session, category="viewed waitlist", now=now)
    return WaitlistView(list(entries), list(offers))


def _already_offered(
    session: Session, entry_id: int, practitioner_id: int, start: datetime
) -> bool:
    return (
        session.exec(
            select(WaitlistOffer.id).where(
                WaitlistOffer.entry_id == entry_id,
                WaitlistOffer.practitioner_id == practitioner_id,
                WaitlistOffer.start == start,
            )
        ).first()
        is not None
    )


def _bookable_for(
    session: Session, entry: WaitlistEntry, practitioner_id: int, start: datetime, now: datetime
) -> tuple[Slot, str] | None:
    """The freed slot and the mode the entry's patient would have it in, or None if it does not
    suit them. "Either" patients (no mode) take video when the slot is video-only."""
    modes = ("in_person", "video") if entry.mode is None else (entry.mode or "in_person",)
    for mode in modes:
        try:
            slot = availability.check_bookable(
                session=session,
                now=now,
                practitioner_id=practitioner_id,
                start=start,
                visit_type=entry.visit_type,
                mode=mode,
                patient_id=entry.patient_id,
            )
        except PortalError:
            continue
        return slot, mode
    return None


def offer_freed_slot(
    *, session: Session, now: datetime, practitioner_id: int, start: datetime, end: datetime
) -> WaitlistOffer | None:
    """Hold a just-freed slot for the longest-waiting patient it suits; None if nobody fits."""
    entries = session.exec(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.before > start,
        )
        .order_by(col(WaitlistEntry.created_at), col(WaitlistEntry.id))
    ).all()
    for entry in entries:
        if entry.practitioner_id not in (None, practitioner_id):
            continue
        if _already_offered(session, saved_id(entry), practitioner_id, start):
            continue  # each patient is offered a given slot once; then it moves on
        bookable = _bookable_for(session, entry, practitioner_id, start, now)
        if bookable is None:
            continue
        slot, mode = bookable
        offer = WaitlistOffer(
            entry_id=saved_id(entry),
            practitioner_id=practitioner_id,
            start=slot.start,
            end=slot.end,
            visit_type=entry.visit_type,
            mode=mode,
            offered_at=now,
            expires_at=now + timedelta(minutes=get_settings().waitlist_offer_minutes),
        )
        session.add(offer)
        notifications.notify(
            session=session,
            patient_id=entry.patient_id,
            kind="waitlist_offer",
            text=f"An earlier {label(entry.visit_type)} time is free: {notices.when(slot.start)}. "
            "Open Appointments to take it before the offer expires.",
            now=now,
            link_page="appointments",
        )
        try:
            session.commit()
        except IntegrityError:
            # Another process offered this slot at the same moment; one offer is enough.
            session.rollback()
            return None
        return offer
    return None


def _pass_on(session: Session, offer: WaitlistOffer, status: str, now: datetime) -> None:
    """Close an open offer (declined or expired), commit, and offer its slot to the next."""
    offer.status = status
    session.add(offer)
    session.commit()
    offer_freed_slot(
        session=session,
        now=now,
        practitioner_id=offer.practitioner_id,
        start=offer.start,
        end=offer.end,
    )


def _offer_for(
    actor: User, offer_id: int, *, session: Session, now: datetime
) -> tuple[WaitlistOffer, WaitlistEntry]:
    """The offer and the waitlist entry it was made to, once the actor may act for its patient."""
    offer = get_or_not_found(session, WaitlistOffer, offer_id)
    entry = get_or_not_found(session, WaitlistEntry, offer.entry_id)
    require_patient_access(actor, entry.patient_id, session=session, category=CATEGORY, now=now)
    return offer, entry


def accept(actor: User, offer_id: int, *, session: Session, now: datetime) -> Booking:
    """Take an offered slot: moves the patient's later booking, or books a new visit."""
    offer, entry = _offer_for(actor, offer_id, session=session, now=now)
    if offer.status != OfferStatus.OPEN or offer.expires_at <= now:
        raise OfferExpired()
    offer.status = OfferStatus.ACCEPTED
    entry.status = WaitlistStatus.BOOKED
    session.add_all([offer, entry])
    # The booking commit carries the offer and entry changes; a lost race rolls them all back.
    later = session.get(Booking, entry.booking_id) if entry.booking_id else None
    if later is not None and later.status == BookingStatus.BOOKED:
        return booking.reschedule(
            actor,
            saved_id(later),
            session=session,
            now=now,
            new_start=offer.start,
            practitioner_id=offer.practitioner_id,
            visit_type=offer.visit_type,
            mode=offer.mode,
        )
    return booking.book(
        actor,
        session=session,
        now=now,
        patient_id=entry.patient_id,
        practitioner_id=offer.practitioner_id,
        start=offer.start,
        visit_type=offer.visit_type,
        mode=offer.mode,
    )


def decline(actor: User, offer_id: int, *, session: Session, now: datetime) -> None:
    """Say no to an offer; the patient stays on the waitlist and the slot goes to the next."""
    offer, entry = _offer_for(actor, offer_id, session=session, now=now)
    if offer.status != OfferStatus.OPEN:
        raise OfferExpired()
    _pass_on(session, offer, OfferStatus.DECLINED, now)
    audit.record(
        session=session, actor=actor, category=CATEGORY, action="decline offer",
        patient_id=entry.patient_id, detail=f"waitlist offer {offer.id}", now=now,
    )  # fmt: skip
    session.commit()


def expire_offers(*, session: Session, now: datetime) -> int:
    """Close offers past their hold and pass each slot on (a job; safe to run repeatedly)."""
    expired = session.exec(
        select(WaitlistOffer).where(
            WaitlistOffer.status == OfferStatus.OPEN, WaitlistOffer.expires_at <= now
        )
    ).all()
    for offer in expired:
        _pass_on(session, offer, OfferStatus.EXPIRED, now)
    return len(expired)
