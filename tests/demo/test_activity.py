"""The demo clinic is a living portal: open slots, upcoming visits, an inbox with work in it, and
unread updates for the demo patient; seeded the same way every time, and only once."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import func, select

from db.models import Booking, CheckIn, Practitioner, ScheduleTemplate, TriageItem, User
from portal.demo.activity import seed_portal_activity
from portal.demo.generator import DR_PATEL
from portal.demo.seed import seed_demo_clinic
from portal.services import messages, notifications, triage
from portal.services.scheduling import availability, booking
from tests.conftest import _empty_all_tables

PASSWORD = "Demo-seed-password-1"
PATIENTS = 6


def _seed(session, now):
    return seed_demo_clinic(
        session=session, n_patients=PATIENTS, seed=7, now=now, password=PASSWORD
    )


@pytest.fixture
def seeded(session, now):
    return _seed(session, now)


def _user(session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_every_clinician_has_weekly_hours_so_patients_find_open_times(session, now, seeded):
    assert seeded.activity.templates == 6 * 5 * 2
    assert _count(session, ScheduleTemplate) == 60
    patel = session.exec(select(Practitioner).where(Practitioner.fhir_id == DR_PATEL.fhir_id)).one()
    for visit_type, mode in (("annual", "in_person"), ("follow_up", "video")):
        slots = availability.open_slots(
            session=session,
            now=now,
            start=now,
            end=now + timedelta(days=14),
            practitioner_id=patel.id,
            visit_type=visit_type,
            mode=mode,
        )
        assert len(slots) > 50, (visit_type, mode)


def test_demo_patient_has_upcoming_visits_booked_in_the_portal(session, now, seeded):
    patient = _user(session, "patient")
    upcoming, _ = booking.list_for_patient(patient, patient.patient_id, session=session, now=now)
    assert [(r.booking.visit_type, r.booking.mode) for r in upcoming] == [
        ("annual", "in_person"),
        ("follow_up", "video"),
    ]
    assert upcoming[1].booking.video_room
    assert all(r.practitioner_name.startswith("Dr. Anika Patel") for r in upcoming)


def test_staff_calendar_has_other_patients_and_a_check_in(session, now, seeded):
    others = session.exec(
        select(Booking).where(Booking.patient_id != _user(session, "patient").patient_id)
    ).all()
    assert len(others) == 6
    assert all(b.start > now for b in others)
    checkin = session.exec(select(CheckIn)).one()
    assert checkin.booking_id in {b.id for b in others}


def test_the_inbox_has_one_of_each_kind_of_request_waiting(session, now, seeded):
    nurse = _user(session, "nurse")
    rows = triage.list_items(nurse, session=session, now=now)
    assert Counter(r.item.kind for r in rows) == {
        "message": 2,
        "refill": 1,
        "profile_change": 1,
        "visit_request": 1,
    }
    # The answered message and the approved refill are closed, with their history.
    assert _count(session, TriageItem) == 7
    assert seeded.activity.open_inbox_items == 5


def test_demo_patient_has_unread_updates_and_a_reply(session, now, seeded):
    patient = _user(session, "patient")
    pid = patient.patient_id
    assert messages.unread_count(patient, pid, session=session, now=now) == 1
    notes = notifications.list_notifications(patient, pid, session=session, now=now)
    assert notifications.unread_count(patient, pid, session=session, now=now) == len(notes) == 2
    texts = [n.text for n in notes]
    assert any(t.startswith("New reply from the care team") for t in texts)
    assert any("was approved" in t for t in texts)


def test_activity_is_seeded_once(session, now, seeded):
    before = {m: _count(session, m) for m in (ScheduleTemplate, Booking, TriageItem)}
    again = seed_portal_activity(session=session, seed=7, now=now)
    assert again.skipped
    assert {m: _count(session, m) for m in before} == before


def _snapshot(session):
    bookings = session.exec(select(Booking).order_by(Booking.start)).all()
    items = session.exec(select(TriageItem).order_by(TriageItem.id)).all()
    return (
        [(b.start, b.patient_id, b.visit_type, b.mode) for b in bookings],
        [(i.kind, i.status, i.created_at) for i in items],
    )


def test_same_seed_and_time_give_the_same_portal(engine, session, now):
    _seed(session, now)
    first = _snapshot(session)
    session.close()
    _empty_all_tables(engine)
    _seed(session, now)
    assert _snapshot(session) == first
