"""Issue 12 item 8: patients delete or correct their own home readings, audited."""

from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent, PatientReading
from portal.errors import InvalidInput, NotAllowed, PortalError
from portal.services.readings import edits, entry, units
from tests.readings.helpers import make_people


def _weigh(people, session, now, kg, *, by=None, minutes_ago=30):
    return entry.add_reading(
        by or people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        measure=units.WEIGHT,
        value=kg,
        unit="kg",
        taken_at=now - timedelta(minutes=minutes_ago),
    ).reading


def _audit(session, action):
    return session.exec(
        select(AuditEvent).where(AuditEvent.category == "readings", AuditEvent.action == action)
    ).all()


def test_a_patient_deletes_a_reading_they_entered(session, now):
    people = make_people(session)
    reading = _weigh(people, session, now, 70)
    edits.delete_reading(people.alice_user, people.alice.id, reading.id, session=session, now=now)
    session.expire_all()
    assert session.exec(select(PatientReading)).all() == []
    [event] = _audit(session, "delete")
    assert (event.user_id, event.patient_id) == (people.alice_user.id, people.alice.id)
    assert "Weight 70" in event.detail


def test_a_caregiver_corrects_a_reading_the_patient_entered(session, now):
    people = make_people(session)
    reading = _weigh(people, session, now, 170)  # meant 70
    taken = reading.taken_at
    result = edits.correct_reading(
        people.proxy,
        people.alice.id,
        reading.id,
        value=70,
        value2=None,
        unit="kg",
        taken_at=taken,
        session=session,
        now=now,
    )
    assert result.text.startswith("70")
    session.expire_all()
    [stored] = session.exec(select(PatientReading)).all()
    assert (stored.value, stored.entered_by_user_id) == (70, people.proxy.id)
    [event] = _audit(session, "correct")
    assert "170" in event.detail and "-> 70" in event.detail


def test_a_correction_is_checked_like_a_new_reading(session, now):
    people = make_people(session)
    reading = _weigh(people, session, now, 70)
    with pytest.raises(InvalidInput):
        edits.correct_reading(
            people.alice_user,
            people.alice.id,
            reading.id,
            value=-5,
            value2=None,
            unit="kg",
            taken_at=reading.taken_at,
            session=session,
            now=now,
        )
    session.expire_all()
    assert [r.value for r in session.exec(select(PatientReading)).all()] == [70]


def test_readings_staff_entered_or_of_another_patient_cannot_be_changed(session, now):
    people = make_people(session)
    by_nurse = _weigh(people, session, now, 71, by=people.nurse)
    own = _weigh(people, session, now, 72, minutes_ago=40)
    with pytest.raises(NotAllowed, match="Only readings you or your caregiver entered"):
        edits.delete_reading(
            people.alice_user, people.alice.id, by_nurse.id, session=session, now=now
        )
    with pytest.raises(PortalError):  # Bob has no access to Alice's record
        edits.delete_reading(people.bob_user, people.alice.id, own.id, session=session, now=now)
    with pytest.raises(PortalError):  # nor through his own record id
        edits.delete_reading(people.bob_user, people.bob.id, own.id, session=session, now=now)
    session.expire_all()
    assert len(session.exec(select(PatientReading)).all()) == 2
    assert [e.outcome for e in _audit(session, "edit")] == ["failure"]


def test_a_reading_the_care_team_was_alerted_about_stays(session, now):
    people = make_people(session)
    result = entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        measure=units.BLOOD_PRESSURE,
        value=186,
        value2=118,
        unit="mmHg",
        taken_at=now - timedelta(minutes=5),
    )
    assert result.alert_opened
    ids = [result.reading.id]
    assert not edits.editable_ids(people.alice_user, people.alice.id, ids, session=session, now=now)
    with pytest.raises(NotAllowed):
        edits.delete_reading(
            people.alice_user, people.alice.id, result.reading.id, session=session, now=now
        )
