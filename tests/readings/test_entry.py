from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent, PatientReading
from portal.errors import InvalidInput, NotAllowed, NotYourRecord
from portal.services.readings import entry, units
from portal.services.readings.entry import ReadingInput, Refusal, dedup_key
from tests.readings.helpers import make_people


def _readings(session):
    session.expire_all()
    return session.exec(select(PatientReading).order_by(PatientReading.id)).all()


def test_patient_enters_blood_pressure_and_it_is_stored_and_audited(session, now):
    people = make_people(session)
    result = entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        measure=units.BLOOD_PRESSURE,
        value=128,
        value2=82,
        unit="mmHg",
        taken_at=now - timedelta(hours=1),
    )
    assert not result.duplicate and not result.alert_opened
    [reading] = _readings(session)
    assert (reading.value, reading.value2, reading.unit, reading.source) == (
        128,
        82,
        "mmHg",
        "manual",
    )
    assert reading.entered_by_user_id == people.alice_user.id
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "add")).all()
    assert [(e.patient_id, e.category) for e in events] == [(people.alice.id, "readings")]


def test_weight_in_pounds_is_kept_as_entered_and_stored_in_kilograms(session, now):
    people = make_people(session)
    entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        measure=units.WEIGHT,
        value=165,
        unit="lb",
        taken_at=now,
    )
    [reading] = _readings(session)
    assert reading.value == pytest.approx(74.84, abs=0.01)
    assert (reading.unit, reading.entered_value, reading.entered_unit) == ("kg", 165, "lb")
    row = entry.to_row(reading)
    assert (row.text, row.entered) == ("74.8 kg", "165.0 lb")


def test_entering_the_same_reading_twice_stores_it_once(session, now):
    people = make_people(session)
    args = dict(measure=units.HEART_RATE, value=70, unit="bpm", taken_at=now)
    first = entry.add_reading(people.alice_user, people.alice.id, session=session, now=now, **args)
    again = entry.add_reading(people.alice_user, people.alice.id, session=session, now=now, **args)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert len(_readings(session)) == 1


def test_same_reading_for_two_patients_is_two_readings(session, now):
    people = make_people(session)
    args = dict(measure=units.HEART_RATE, value=70, unit="bpm", taken_at=now)
    entry.add_reading(people.alice_user, people.alice.id, session=session, now=now, **args)
    entry.add_reading(people.bob_user, people.bob.id, session=session, now=now, **args)
    assert len(_readings(session)) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"taken_at_offset": timedelta(hours=2)}, "in the future"),
        ({"value": 900}, "outside what we can accept"),
        ({"unit": "stone"}, "cannot be given in 'stone'"),
    ],
)
def test_bad_manual_entries_are_refused_in_plain_words(session, now, changes, message):
    people = make_people(session)
    with pytest.raises(InvalidInput) as error:
        entry.add_reading(
            people.alice_user,
            people.alice.id,
            session=session,
            now=now,
            measure=units.WEIGHT,
            value=changes.get("value", 70),
            unit=changes.get("unit", "kg"),
            taken_at=now + changes.get("taken_at_offset", timedelta(0)),
        )
    assert message in error.value.user_message
    assert _readings(session) == []


def test_patient_cannot_add_readings_to_another_record_and_the_attempt_is_audited(session, now):
    people = make_people(session)
    with pytest.raises(NotYourRecord):
        entry.add_reading(
            people.bob_user,
            people.alice.id,
            session=session,
            now=now,
            measure=units.STEPS,
            value=1000,
            unit="steps",
            taken_at=now,
        )
    assert _readings(session) == []
    denied = session.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert [e.patient_id for e in denied] == [people.alice.id]


def test_proxy_adds_readings_for_the_granted_patient_only(session, now):
    people = make_people(session)
    args = dict(measure=units.STEPS, value=1000, unit="steps", taken_at=now)
    entry.add_reading(people.proxy, people.alice.id, session=session, now=now, **args)
    with pytest.raises(NotYourRecord):
        entry.add_reading(people.proxy, people.bob.id, session=session, now=now, **args)
    assert [r.patient_id for r in _readings(session)] == [people.alice.id]


def test_import_reports_added_duplicates_and_refusals_with_reasons(session, now):
    people = make_people(session)
    items = [
        ReadingInput(units.WEIGHT, 70, "kg", now - timedelta(days=1), where="line 2"),
        ReadingInput(units.WEIGHT, 70, "kg", now - timedelta(days=1), where="line 3"),
        ReadingInput(units.WEIGHT, 70, "stone", now, where="line 4"),
        Refusal("line 5", "The value is empty."),
    ]
    report = entry.import_readings(
        people.alice_user,
        people.alice.id,
        items,
        session=session,
        now=now,
        source="csv",
        label="test.csv",
    )
    assert (report.added, report.duplicates, report.refused) == (1, 1, 2)
    assert report.examples[0].startswith("line 4: Weight cannot be given in 'stone'")
    assert report.examples[1] == "line 5: The value is empty."
    again = entry.import_readings(
        people.alice_user,
        people.alice.id,
        items,
        session=session,
        now=now,
        source="csv",
        label="test.csv",
    )
    assert (again.added, again.duplicates) == (0, 2)
    assert len(_readings(session)) == 1


def test_import_in_small_batches_still_finds_duplicates_across_batches(session, now):
    people = make_people(session)
    items = [
        ReadingInput(units.STEPS, 100 + n, "count", now - timedelta(minutes=n)) for n in range(25)
    ]
    writer = entry.ReadingWriter(
        people.alice_user, people.alice.id, session=session, now=now, source="csv", batch_size=7
    )
    assert writer.add_all(items).added == 25
    writer = entry.ReadingWriter(
        people.alice_user, people.alice.id, session=session, now=now, source="csv", batch_size=7
    )
    report = writer.add_all(items)
    assert (report.added, report.duplicates) == (0, 25)
    assert len(_readings(session)) == 25


def test_dedup_key_ignores_sub_second_and_float_noise_but_not_real_differences(now):
    a = dedup_key(units.WEIGHT, now, 74.84, None)
    assert a == dedup_key(units.WEIGHT, now.replace(microsecond=0), 74.8400001, None)
    assert a != dedup_key(units.WEIGHT, now + timedelta(seconds=1), 74.84, None)
    assert a != dedup_key(units.WEIGHT, now, 75.0, None)
    assert a != dedup_key(units.HEART_RATE, now, 74.84, None)


def test_recent_readings_newest_first_and_the_read_is_audited(session, now):
    people = make_people(session)
    for hours in (3, 1, 2):
        entry.add_reading(
            people.alice_user,
            people.alice.id,
            session=session,
            now=now,
            measure=units.HEART_RATE,
            value=60 + hours,
            unit="bpm",
            taken_at=now - timedelta(hours=hours),
        )
    rows = entry.recent_readings(people.nurse, people.alice.id, session=session, now=now)
    assert [r.value for r in rows] == [61, 62, 63]
    assert rows[0].source == "Entered"
    read = session.exec(
        select(AuditEvent).where(AuditEvent.category == entry.VIEWED_READINGS)
    ).all()
    assert [(e.username, e.patient_id) for e in read] == [("nurse", people.alice.id)]


def test_rows_stored_by_a_concurrent_import_count_as_already_there(session, now, monkeypatch):
    people = make_people(session)
    first = ReadingInput(units.HEART_RATE, 70, "bpm", now - timedelta(minutes=5))
    second = ReadingInput(units.HEART_RATE, 72, "bpm", now - timedelta(minutes=4))
    # Another import stored the first reading after this one looked for existing keys.
    entry.import_readings(
        people.proxy, people.alice.id, [first], session=session, now=now, source="csv", label="a"
    )
    original = entry.ReadingWriter.flush

    def flush_without_lookup(self):
        monkeypatch.setattr(self.session, "exec", _no_existing(self.session.exec))
        return original(self)

    monkeypatch.setattr(entry.ReadingWriter, "flush", flush_without_lookup)
    report = entry.import_readings(
        people.alice_user,
        people.alice.id,
        [first, second],
        session=session,
        now=now,
        source="csv",
        label="b",
    )
    assert (report.added, report.duplicates) == (1, 1)
    assert sorted(r.value for r in _readings(session)) == [70, 72]


def _no_existing(real_exec):
    """session.exec that finds no stored keys (the race window), and works normally otherwise."""

    class _Empty:
        def all(self):
            return []

    def exec_(statement, *args, **kwargs):
        if "dedup_key" in str(statement) and "patientreading.dedup_key IN" in str(statement):
            return _Empty()
        return real_exec(statement, *args, **kwargs)

    return exec_


def test_front_desk_cannot_add_readings_but_a_nurse_can(session, now):
    people = make_people(session)
    args = dict(measure=units.HEART_RATE, value=70, unit="bpm", taken_at=now)
    with pytest.raises(NotAllowed):
        entry.add_reading(people.front_desk, people.alice.id, session=session, now=now, **args)
    entry.add_reading(people.nurse, people.alice.id, session=session, now=now, **args)
    assert [r.entered_by_user_id for r in _readings(session)] == [people.nurse.id]
