"""Issue 12 item 6: urgent items sort first and are due within the clinic's urgent SLA."""

from datetime import UTC, datetime, timedelta

from portal.config import Settings
from portal.services import messages, triage
from portal.services.readings import entry, units
from portal.services.sla import due_at
from tests.readings.helpers import make_people

SETTINGS = Settings(clinic_timezone="America/New_York")


def _bp(people, session, at, systolic, diastolic):
    return entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=at,
        measure=units.BLOOD_PRESSURE,
        value=systolic,
        value2=diastolic,
        unit="mmHg",
        taken_at=at - timedelta(minutes=5),
    )


def test_an_urgent_blood_pressure_alert_is_due_within_an_hour_and_sorts_first(session, now):
    people = make_people(session)
    # A message sent the day before is overdue by now (8 business hours).
    messages.start_thread(
        people.bob_user,
        people.bob.id,
        recipient="care_team",
        subject="Question",
        body="About my tablets",
        session=session,
        now=now - timedelta(days=1, hours=2),
    )
    result = _bp(people, session, now, 186, 118)  # Tuesday 10:00 in the clinic
    assert result.alert_opened

    rows = triage.list_items(people.nurse, session=session, now=now + timedelta(minutes=10))
    assert [(r.item.kind, r.item.priority, r.overdue) for r in rows] == [
        ("reading_alert", 1, False),
        ("message", 2, True),
    ]
    assert rows[0].item.summary.startswith("Blood pressure 186/118 mmHg")
    assert rows[0].item.due_at.replace(tzinfo=UTC) == now + timedelta(hours=1)
    # Past that hour it is overdue, and still first.
    later = triage.list_items(people.nurse, session=session, now=now + timedelta(minutes=61))
    assert [(r.item.kind, r.overdue) for r in later] == [
        ("reading_alert", True),
        ("message", True),
    ]


def test_the_urgent_sla_counts_opening_hours_and_is_a_clinic_setting():
    tuesday_4_30pm = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
    # Half an hour on Tuesday, half an hour from Wednesday 8:00.
    assert due_at("reading_alert", tuesday_4_30pm, SETTINGS, priority=1) == datetime(
        2026, 11, 25, 13, 30, tzinfo=UTC
    )
    tuesday_10am = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    two_hours = Settings(clinic_timezone="America/New_York", triage_urgent_sla_hours=2)
    assert due_at("message", tuesday_10am, two_hours, priority=1) == datetime(
        2026, 11, 24, 17, 0, tzinfo=UTC
    )
    # A normal item keeps its kind's SLA (8 hours: to Wednesday 9:00).
    assert due_at("message", tuesday_10am, two_hours) == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
