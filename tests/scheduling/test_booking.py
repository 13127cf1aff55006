from datetime import timedelta

import pytest
from sqlmodel import func, select

from db.models import AuditEvent, Booking, BookingStatus
from portal.errors import NotYourRecord
from portal.services.scheduling import booking
from portal.services.scheduling.errors import (
    AlreadyCancelled,
    DuplicateVisit,
    SlotInPast,
    SlotNotOffered,
    SlotTaken,
    TooLateToChange,
)
from tests.scheduling.conftest import WED_9AM

THU_9AM = WED_9AM + timedelta(days=1)  # beyond the 24 h cut-off from NOW


def _book(session, now, clinic, user=None, patient=None, **kw):
    return booking.book(
        user or clinic.alice_user,
        session=session,
        now=now,
        patient_id=(patient or clinic.alice).id,
        practitioner_id=kw.pop("practitioner_id", clinic.smith.id),
        start=kw.pop("start", THU_9AM),
        visit_type=kw.pop("visit_type", "annual"),
        **kw,
    )


def _count(session):
    return session.exec(select(func.count()).select_from(Booking)).one()


def test_patient_books_open_slot(session, now, clinic):
    b = _book(session, now, clinic)
    assert b.status == BookingStatus.BOOKED
    assert b.end - b.start == timedelta(minutes=20)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "book")).first()


def test_second_booking_of_same_slot_is_refused(session, now, clinic):
    _book(session, now, clinic)
    with pytest.raises(SlotTaken):
        _book(session, now, clinic, user=clinic.bob_user, patient=clinic.bob)
    assert _count(session) == 1


def test_slot_in_the_past_is_refused_and_nothing_stored(session, now, clinic):
    with pytest.raises(SlotInPast):
        _book(session, now, clinic, start=now - timedelta(days=1))
    assert _count(session) == 0


def test_visit_type_the_provider_does_not_offer_is_refused(session, now, clinic):
    with pytest.raises(SlotNotOffered, match="Dr. Jones does not offer Annual physical"):
        _book(session, now, clinic, practitioner_id=clinic.jones.id)
    assert _count(session) == 0


def test_video_with_in_person_only_provider_is_refused(session, now, clinic):
    with pytest.raises(SlotNotOffered, match="by video"):
        _book(
            session,
            now,
            clinic,
            practitioner_id=clinic.jones.id,
            visit_type="follow_up",
            mode="video",
        )


def test_time_off_the_template_grid_is_refused(session, now, clinic):
    with pytest.raises(SlotNotOffered):
        _book(session, now, clinic, start=THU_9AM + timedelta(minutes=7))


def test_patient_cannot_book_for_another_patient(session, now, clinic):
    with pytest.raises(NotYourRecord):
        _book(session, now, clinic, patient=clinic.bob)
    assert _count(session) == 0


def test_cancel_frees_the_slot(session, now, clinic):
    b = _book(session, now, clinic)
    booking.cancel(clinic.alice_user, b.id, session=session, now=now)
    again = _book(session, now, clinic, user=clinic.bob_user, patient=clinic.bob)
    assert again.start == b.start


def test_cancelling_a_cancelled_visit_says_so_and_changes_nothing(session, now, clinic):
    b = _book(session, now, clinic)
    booking.cancel(clinic.alice_user, b.id, session=session, now=now)
    cancelled_at = session.get(Booking, b.id).cancelled_at
    with pytest.raises(AlreadyCancelled):
        booking.cancel(clinic.alice_user, b.id, session=session, now=now + timedelta(minutes=5))
    session.expire_all()
    assert session.get(Booking, b.id).cancelled_at == cancelled_at


def test_patient_cannot_cancel_within_cutoff_but_staff_can(session, now, clinic):
    # Booked two days ago; NOW is 23 hours before the visit, inside the 24 h cut-off.
    b = _book(session, now - timedelta(days=2), clinic, start=WED_9AM)
    with pytest.raises(TooLateToChange, match="call the clinic"):
        booking.cancel(clinic.alice_user, b.id, session=session, now=now)
    assert not booking.can_change_online(b, now)
    booking.cancel(clinic.staff, b.id, session=session, now=now)
    assert session.get(Booking, b.id).status == BookingStatus.CANCELLED


def test_visit_booked_inside_the_cutoff_can_be_cancelled_online_for_the_grace_period(
    session, now, clinic
):
    # Booked at NOW for tomorrow 9:00 (23 hours ahead): the cut-off did not exist when it was
    # booked, so the patient may still undo it for cancel_grace_minutes (60).
    b = _book(session, now, clinic, start=WED_9AM)
    assert booking.can_change_online(b, now + timedelta(minutes=59))
    assert not booking.can_change_online(b, now + timedelta(minutes=61))
    with pytest.raises(TooLateToChange):
        booking.cancel(clinic.alice_user, b.id, session=session, now=now + timedelta(minutes=61))
    session.rollback()
    booking.cancel(clinic.alice_user, b.id, session=session, now=now + timedelta(minutes=30))
    assert session.get(Booking, b.id).status == BookingStatus.CANCELLED


def test_same_visit_type_same_provider_same_day_is_refused(session, now, clinic):
    _book(session, now, clinic)  # annual physical with Dr. Smith, Thursday 9:00
    with pytest.raises(DuplicateVisit, match="You already have an Annual physical with Dr. Smith"):
        _book(session, now, clinic, start=THU_9AM + timedelta(hours=1))
    assert _count(session) == 1


def test_overlapping_visit_for_the_same_patient_is_refused_in_plain_words(session, now, clinic):
    _book(session, now, clinic)
    with pytest.raises(DuplicateVisit, match="You already have a visit at that time"):
        _book(session, now, clinic, practitioner_id=clinic.jones.id, visit_type="follow_up")
    # Staff booking for the patient hear the patient's name, not "you".
    with pytest.raises(DuplicateVisit, match="Alice Ames already has a visit at that time"):
        _book(
            session,
            now,
            clinic,
            user=clinic.staff,
            practitioner_id=clinic.jones.id,
            visit_type="follow_up",
        )
    assert _count(session) == 1


def test_other_visits_the_same_day_and_other_patients_are_allowed(session, now, clinic):
    _book(session, now, clinic)
    # Another kind of visit later the same day, and another day for the same kind: fine.
    _book(session, now, clinic, visit_type="follow_up", start=THU_9AM + timedelta(hours=1))
    _book(session, now, clinic, start=THU_9AM + timedelta(days=1))
    # The slot right after Alice's for Bob: fine.
    _book(
        session,
        now,
        clinic,
        user=clinic.bob_user,
        patient=clinic.bob,
        start=THU_9AM + timedelta(minutes=20),
    )
    assert _count(session) == 4


def test_reschedule_is_not_refused_as_a_duplicate_of_itself(session, now, clinic):
    b = _book(session, now, clinic)
    moved = booking.reschedule(
        clinic.alice_user, b.id, session=session, now=now, new_start=THU_9AM + timedelta(hours=1)
    )
    assert moved.status == BookingStatus.BOOKED


def test_reschedule_moves_visit_and_frees_old_slot(session, now, clinic):
    later = now + timedelta(days=2)
    b = _book(session, later - timedelta(days=2), clinic, start=WED_9AM + timedelta(days=1))
    new = booking.reschedule(
        clinic.alice_user, b.id, session=session, now=now, new_start=WED_9AM + timedelta(days=2)
    )
    assert new.rescheduled_from_id == b.id
    assert session.get(Booking, b.id).status == BookingStatus.CANCELLED
    _book(
        session,
        now,
        clinic,
        user=clinic.bob_user,
        patient=clinic.bob,
        start=WED_9AM + timedelta(days=1),
    )


def test_failed_reschedule_keeps_the_original(session, now, clinic):
    b = _book(session, now, clinic, start=WED_9AM + timedelta(days=1))
    _book(
        session,
        now,
        clinic,
        user=clinic.bob_user,
        patient=clinic.bob,
        start=WED_9AM + timedelta(days=2),
    )
    with pytest.raises(SlotTaken):
        booking.reschedule(
            clinic.alice_user, b.id, session=session, now=now, new_start=WED_9AM + timedelta(days=2)
        )
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.BOOKED


def test_video_booking_gets_unguessable_room(session, now, clinic):
    a = _book(session, now, clinic, mode="video")
    b = _book(
        session,
        now,
        clinic,
        user=clinic.bob_user,
        patient=clinic.bob,
        mode="video",
        start=THU_9AM + timedelta(minutes=20),
    )
    assert a.video_room and b.video_room and a.video_room != b.video_room
    assert len(a.video_room) >= 20


def test_staff_marks_no_show_and_sees_count(session, now, clinic):
    b = _book(session, now, clinic, user=clinic.staff)
    booking.mark(clinic.staff, b.id, BookingStatus.NO_SHOW, session=session, now=now)
    assert booking.no_show_count(clinic.staff, clinic.alice.id, session=session) == 1


def test_upcoming_and_past_lists(session, now, clinic):
    b = _book(session, now, clinic)
    upcoming, past = booking.list_for_patient(
        clinic.alice_user, clinic.alice.id, session=session, now=now
    )
    assert [r.booking.id for r in upcoming] == [b.id] and past == []
    upcoming, past = booking.list_for_patient(
        clinic.alice_user, clinic.alice.id, session=session, now=now + timedelta(days=2)
    )
    assert upcoming == [] and [r.booking.id for r in past] == [b.id]
