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
from portal.services import dashboard, messages, no_show, notifications, triage
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
        select(Booking).where(
            Booking.patient_id != _user(session, "patient").patient_id, Booking.start > now
        )
    ).all()
    # Booked by the front desk (a patient at most once a day), plus the visits of patients who
    # often miss (visit history); the demo patient's own two are the rest.
    assert len(others) == seeded.activity.bookings - 2
    # (this 6-patient demo has three other patients, each booked at most once a day)
    assert len(others) >= 4
    assert all(b.status == "booked" for b in others)
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


# --- a year of visit history (issue 12) -------------------------------------------------------


def test_the_demo_carries_a_past_year_of_visits_with_realistic_no_shows(session, now, seeded):
    past = session.exec(select(Booking).where(Booking.start < now)).all()
    outcomes = Counter(b.status for b in past)
    assert {"completed", "no_show", "cancelled"} <= set(outcomes)
    seen = outcomes["completed"] + outcomes["no_show"]
    assert seen >= no_show.MIN_VISITS and outcomes["no_show"] >= no_show.MIN_NO_SHOWS
    assert 0.05 < outcomes["no_show"] / seen < 0.5
    assert min(b.start for b in past) > now - timedelta(days=366)
    # A patient is never in two places: no overlapping active visits for one patient.
    active = sorted(
        (b for b in session.exec(select(Booking)).all() if b.status != "cancelled"),
        key=lambda b: (b.patient_id, b.start),
    )
    for a, b in zip(active, active[1:], strict=False):
        assert a.patient_id != b.patient_id or a.end <= b.start


def test_the_no_show_model_trains_on_the_demo_and_flags_visits_on_the_staff_calendar(
    session, now, seeded
):
    nurse = _user(session, "nurse")
    insight = no_show.no_show_insight(nurse, session=session, now=now)
    assert not insight.message and insight.auc is not None
    for weeks in (4, 26, 52):
        data = dashboard.clinic_dashboard(nurse, session=session, now=now, weeks=weeks)
        assert sum(r.visits for r in data.no_shows) > 0, weeks
    # The scheduler's first tick flags the visits of patients who often miss.
    assert seeded.activity.at_risk >= 1
    assert no_show.send_extra_reminders(session=session, now=now) >= 1
    upcoming = session.exec(select(Booking.id).where(Booking.start > now)).all()
    assert no_show.high_risk_bookings(list(upcoming), session=session)
