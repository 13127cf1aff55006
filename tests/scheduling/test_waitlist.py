from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import Booking, BookingStatus, Notification, OfferStatus, WaitlistOffer
from portal.services.scheduling import booking, waitlist
from portal.services.scheduling.errors import OfferExpired, SlotTaken
from tests.scheduling.conftest import WED_9AM

THU_9AM = WED_9AM + timedelta(days=1)
NEXT_WEEK = WED_9AM + timedelta(days=7)


def _setup(session, now, clinic):
    """Bob holds Thursday 9:00; Alice has a visit next week and waits for something earlier."""
    bobs = booking.book(
        clinic.bob_user,
        session=session,
        now=now,
        patient_id=clinic.bob.id,
        practitioner_id=clinic.smith.id,
        start=THU_9AM,
        visit_type="follow_up",
    )
    alices = booking.book(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.smith.id,
        start=NEXT_WEEK,
        visit_type="annual",
    )
    entry = waitlist.join(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        visit_type="annual",
        booking_id=alices.id,
    )
    return bobs, alices, entry


def test_cancelled_slot_is_offered_to_waitlisted_patient(session, now, clinic):
    bobs, alices, _ = _setup(session, now, clinic)
    booking.cancel(clinic.bob_user, bobs.id, session=session, now=now)
    view = waitlist.view(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert [o.start for o in view.offers] == [THU_9AM]
    note = session.exec(select(Notification).where(Notification.patient_id == clinic.alice.id))
    assert note.first().kind == "waitlist_offer"
    # While held, nobody else can take it.
    with pytest.raises(SlotTaken):
        booking.book(
            clinic.bob_user,
            session=session,
            now=now,
            patient_id=clinic.bob.id,
            practitioner_id=clinic.smith.id,
            start=THU_9AM,
            visit_type="follow_up",
        )
    moved = waitlist.accept(clinic.alice_user, view.offers[0].id, session=session, now=now)
    assert moved.start == THU_9AM and moved.rescheduled_from_id == alices.id
    assert session.get(Booking, alices.id).status == BookingStatus.CANCELLED


def test_expired_offer_passes_to_next_patient(session, now, clinic):
    bobs, _, _ = _setup(session, now, clinic)
    carol_entry = waitlist.join(
        clinic.staff,
        session=session,
        now=now + timedelta(minutes=1),
        patient_id=clinic.bob.id,
        visit_type="annual",
    )
    # Bob's own cancellation is offered first to Alice (longest waiting).
    booking.cancel(clinic.bob_user, bobs.id, session=session, now=now + timedelta(minutes=2))
    first = session.exec(select(WaitlistOffer)).one()
    assert first.entry_id != carol_entry.id
    later = first.expires_at + timedelta(seconds=1)
    assert waitlist.expire_offers(session=session, now=later) == 1
    with pytest.raises(OfferExpired):
        waitlist.accept(clinic.alice_user, first.id, session=session, now=later)
    second = session.exec(
        select(WaitlistOffer).where(WaitlistOffer.status == OfferStatus.OPEN)
    ).one()
    assert second.entry_id == carol_entry.id and second.start == THU_9AM
