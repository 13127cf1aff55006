"""No-show insight: features from SQL (window counts), a model that learns a real signal, judged
on held-out history, with reasons in plain words; staff only, the risk list audited."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent, Booking, ReminderSent
from portal.errors import NotAllowed
from portal.services import no_show
from tests.factories import create_patient, create_practitioner
from tests.requests.helpers import make_clinic

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def add_booking(session, patient, doctor, start, status, *, lead_days=3, visit_type="follow_up"):
    row = Booking(
        patient_id=patient.id,
        practitioner_id=doctor.id,
        start=start,
        end=start + timedelta(minutes=20),
        visit_type=visit_type,
        status=status,
        created_at=start - timedelta(days=lead_days),
    )
    session.add(row)
    session.flush()
    return row


def make_history(session, *, visits: int = 160, seed: int = 5, now: datetime = NOW):
    """Patients who missed before miss again, and long lead times miss more: a learnable signal."""
    rnd = random.Random(seed)
    doctor = create_practitioner(session)
    reliable = [create_patient(session) for _ in range(6)]
    flaky = [create_patient(session) for _ in range(4)]
    start = now - timedelta(days=300)
    for n in range(visits):
        patient = rnd.choice(reliable + flaky)
        is_flaky = patient in flaky
        lead = rnd.choice([1, 2, 3]) if rnd.random() < 0.6 else rnd.choice([30, 45, 60])
        missed = rnd.random() < (0.55 if is_flaky else 0.05) + (0.15 if lead >= 30 else 0)
        row = add_booking(
            session,
            patient,
            doctor,
            start + timedelta(hours=13 * n),
            "no_show" if missed else "completed",
            lead_days=lead,
        )
        if rnd.random() < 0.5:
            session.add(ReminderSent(booking_id=row.id, offset_hours=24))
    session.commit()
    return doctor, reliable, flaky


def test_features_count_earlier_no_shows_per_patient_with_a_window(session):
    doctor = create_practitioner(session)
    a, b = create_patient(session), create_patient(session)
    t = NOW - timedelta(days=30)
    add_booking(session, a, doctor, t, "no_show")
    add_booking(session, b, doctor, t + timedelta(hours=1), "no_show")
    add_booking(session, a, doctor, t + timedelta(days=1), "completed")
    add_booking(session, a, doctor, t + timedelta(days=2), "cancelled")
    third = add_booking(session, a, doctor, t + timedelta(days=3), "no_show", lead_days=10)
    session.add(ReminderSent(booking_id=third.id, offset_hours=24))
    session.add(ReminderSent(booking_id=third.id, offset_hours=2))
    upcoming = add_booking(session, a, doctor, NOW + timedelta(days=2), "booked")
    session.commit()

    history = no_show._features(session, since=t - timedelta(days=1), until=NOW, upcoming=False)
    mine = [v for v in history if v.patient_id == a.id]
    assert [(v.prior_no_shows, v.prior_visits, v.no_show) for v in mine] == [
        (0, 0, True),
        (1, 1, False),
        (1, 2, True),
    ]
    assert (mine[2].reminders, mine[2].lead_days) == (2, pytest.approx(10))
    [ahead] = no_show._features(session, since=NOW, until=NOW + timedelta(days=14), upcoming=True)
    assert (ahead.booking_id, ahead.prior_no_shows, ahead.no_show) == (upcoming.id, 2, None)


def test_model_beats_chance_on_held_out_history_and_explains_risk(session):
    clinic = make_clinic(session)
    doctor, reliable, flaky = make_history(session)
    add_booking(session, flaky[0], doctor, NOW + timedelta(days=1), "booked", lead_days=45)
    add_booking(session, reliable[0], doctor, NOW + timedelta(days=2), "booked", lead_days=1)
    session.commit()

    insight = no_show.no_show_insight(clinic.nurse, session=session, now=NOW)

    assert insight.trained_on == 160
    assert insight.auc is not None and insight.auc > 0.7
    risky, steady = insight.upcoming
    assert risky.patient_name == flaky[0].display_name
    assert risky.risk > steady.risk
    assert risky.high and not steady.high
    assert any("earlier no-show" in reason for reason in risky.reasons)
    event = session.exec(select(AuditEvent).where(AuditEvent.category == no_show.VIEWED_RISK)).one()
    assert event.detail == "2 upcoming visits"


def test_reminder_rates_compare_visits_with_and_without_reminders(session):
    doctor = create_practitioner(session)
    patient = create_patient(session)
    t = NOW - timedelta(days=20)
    for n, (status, reminded) in enumerate(
        [("no_show", False), ("completed", False), ("completed", True), ("completed", True)]
    ):
        row = add_booking(session, patient, doctor, t + timedelta(days=n), status)
        if reminded:
            session.add(ReminderSent(booking_id=row.id, offset_hours=24))
    session.commit()
    history = no_show._features(session, since=t - timedelta(days=1), until=NOW, upcoming=False)
    assert no_show._reminder_rates(history) == (0.0, 0.5)


def test_too_little_history_says_so_instead_of_guessing(session):
    clinic = make_clinic(session)
    doctor = create_practitioner(session)
    for n in range(10):
        add_booking(session, clinic.alice, doctor, NOW - timedelta(days=n + 1), "completed")
    session.commit()
    insight = no_show.no_show_insight(clinic.nurse, session=session, now=NOW)
    assert insight.auc is None and insight.upcoming == []
    assert insight.message.startswith("Not enough visit history yet")


def test_no_show_insight_is_for_staff_only(session):
    clinic = make_clinic(session)
    with pytest.raises(NotAllowed):
        no_show.no_show_insight(clinic.alice_user, session=session, now=NOW)


def test_high_risk_visits_soon_get_one_extra_reminder_and_are_flagged(session):
    from db.models import Notification

    doctor, reliable, flaky = make_history(session)
    risky = add_booking(session, flaky[0], doctor, NOW + timedelta(days=1), "booked", lead_days=45)
    steady = add_booking(session, reliable[0], doctor, NOW + timedelta(days=2), "booked")
    later = add_booking(session, flaky[1], doctor, NOW + timedelta(days=6), "booked", lead_days=45)
    session.commit()

    assert no_show.send_extra_reminders(session=session, now=NOW) == 1
    assert no_show.send_extra_reminders(session=session, now=NOW + timedelta(hours=1)) == 0

    notes = session.exec(select(Notification).where(Notification.patient_id == flaky[0].id)).all()
    assert len(notes) == 1 and "please cancel or reschedule" in notes[0].text
    flagged = no_show.high_risk_bookings([risky.id, steady.id, later.id], session=session)
    assert flagged == {risky.id}


def test_no_extra_reminders_without_enough_history(session):
    doctor = create_practitioner(session)
    patient = create_patient(session)
    add_booking(session, patient, doctor, NOW - timedelta(days=3), "no_show")
    add_booking(session, patient, doctor, NOW + timedelta(days=1), "booked", lead_days=60)
    session.commit()
    assert no_show.send_extra_reminders(session=session, now=NOW) == 0


def test_scheduler_tick_sends_the_extra_reminders(engine, session, tmp_path):
    from ehr_sync import jobs
    from portal.config import Settings

    doctor, _, flaky = make_history(session)
    add_booking(session, flaky[0], doctor, NOW + timedelta(hours=20), "booked", lead_days=45)
    session.commit()
    settings = Settings(fhir_base_url=None, state_dir=tmp_path, scheduler_enabled=True)

    report = jobs.run_tick(settings=settings, clock=lambda: NOW)

    assert report.extra_reminders_sent == 1
    assert not report.errors


def test_a_trained_model_is_user_independent_and_scores_like_a_fresh_one(session):
    """Issue 17: the UI caches train_on_history (no user, no audit) and passes it in."""
    clinic = make_clinic(session)
    doctor, reliable, flaky = make_history(session)
    add_booking(session, flaky[0], doctor, NOW + timedelta(days=1), "booked", lead_days=45)
    session.commit()
    audits = len(session.exec(select(AuditEvent)).all())

    trained = no_show.train_on_history(session=session, until=NOW)
    assert len(session.exec(select(AuditEvent)).all()) == audits  # training reads no record
    cached = no_show.no_show_insight(
        clinic.nurse, session=session, now=NOW, trained_model=lambda: trained
    )
    fresh = no_show.no_show_insight(clinic.nurse, session=session, now=NOW)
    assert cached == fresh
    asked = []
    with pytest.raises(NotAllowed):  # a cached model does not skip the permission check
        no_show.no_show_insight(
            clinic.alice_user, session=session, now=NOW, trained_model=lambda: asked.append(1)
        )
    assert asked == []  # and is not even fetched for someone who may not see it


def test_history_version_changes_when_a_visit_is_marked_or_booked(session):
    doctor, reliable, _ = make_history(session, visits=50)
    before = no_show.history_version(session=session, until=NOW)
    row = add_booking(session, reliable[0], doctor, NOW - timedelta(hours=2), "booked")
    session.commit()
    booked = no_show.history_version(session=session, until=NOW)
    assert booked != before
    row.status = "no_show"
    session.add(row)
    session.commit()
    assert no_show.history_version(session=session, until=NOW) != booked
