from datetime import UTC, datetime, timedelta

from db.models import ScheduleException
from portal.services.scheduling import availability, booking
from tests.scheduling.conftest import WED_9AM


def _slots(session, now, **kw):
    return availability.open_slots(
        session=session, now=now, start=WED_9AM, end=WED_9AM + timedelta(hours=3), **kw
    )


def test_template_makes_slots_in_clinic_local_time(session, now, clinic):
    slots = _slots(session, now, practitioner_id=clinic.smith.id)
    assert len(slots) == 9  # 9:00-12:00 in 20-minute slots
    assert slots[0].start == WED_9AM  # 9:00 New York is 14:00 UTC in November


def test_filters_by_visit_type_and_mode(session, now, clinic):
    annual = _slots(session, now, visit_type="annual")
    assert {s.practitioner_id for s in annual} == {clinic.smith.id}
    video = _slots(session, now, mode="video")
    assert {s.practitioner_id for s in video} == {clinic.smith.id}
    assert len(_slots(session, now, visit_type="follow_up")) == 18


def test_booked_slot_and_time_off_are_not_offered(session, now, clinic):
    booking.book(
        clinic.staff,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.smith.id,
        start=WED_9AM,
        visit_type="annual",
    )
    session.add(
        ScheduleException(
            practitioner_id=clinic.smith.id,
            start=WED_9AM + timedelta(hours=2),
            end=WED_9AM + timedelta(hours=3),
            reason="time off",
        )
    )
    session.commit()
    starts = [s.start for s in _slots(session, now, practitioner_id=clinic.smith.id)]
    assert WED_9AM not in starts
    assert len(starts) == 5


def test_clinic_holiday_closes_every_provider(session, now, clinic):
    session.add(ScheduleException(start=WED_9AM, end=WED_9AM + timedelta(days=1), reason="Holiday"))
    session.commit()
    assert _slots(session, now) == []


def test_past_slots_are_not_offered(session, clinic):
    late = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # 11:30 local
    slots = _slots(session, late, practitioner_id=clinic.smith.id)
    assert [s.start for s in slots] == [datetime(2026, 11, 25, 16, 40, tzinfo=UTC)]


def test_a_long_horizon_is_walked_only_as_far_as_the_slots_wanted(
    session, now, clinic, monkeypatch
):
    """Issue 17: the earliest 5 of 60 days of slots need one week built, not sixty days."""
    built = []
    real = availability._template_slots
    monkeypatch.setattr(
        availability,
        "_template_slots",
        lambda templates, first, last: (
            built.append((last - first).days + 1) or real(templates, first, last)
        ),
    )
    horizon = {"start": WED_9AM, "end": WED_9AM + timedelta(days=60)}
    everything = availability.open_slots(session=session, now=now, limit=10_000, **horizon)
    assert sum(built) >= 60
    built.clear()
    first_five = availability.open_slots(session=session, now=now, limit=5, **horizon)
    assert built == [availability.CHUNK_DAYS]
    assert first_five == everything[:5]
    # Booked time is still left out when the search stops early.
    taken = booking.book(
        clinic.staff,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=first_five[0].practitioner_id,
        start=first_five[0].start,
        visit_type="follow_up",
    )
    after = availability.open_slots(session=session, now=now, limit=5, **horizon)
    assert (taken.practitioner_id, taken.start) not in {(s.practitioner_id, s.start) for s in after}
    assert after == [s for s in everything if s != first_five[0]][:5]
