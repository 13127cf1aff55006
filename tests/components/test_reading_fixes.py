"""components/reading_fixes.py: only readings the patient's side entered, and no reading the care
team was alerted about, can be corrected or deleted; a correction needs every number; a delete
needs the tick. The clock is stopped at NOW."""

from datetime import timedelta

import pytest
from sqlmodel import select

from components import reading_fixes
from db.models import PatientReading
from portal.services.readings import units
from tests.conftest import NOW
from tests.harness import click, freeze_clock, open_component, run_ok, texts
from tests.readings.helpers import add_reading, make_people

NOT_YOURS = (
    "You can delete or correct readings you or your caregiver entered, except ones the "
    "care team was alerted about (message them if one of those is wrong)."
)


def _fixes(user_id: int, patient_id: int, now) -> None:
    from components.actions import show_flash
    from components.reading_fixes import render_reading_fixes
    from db.models import User
    from portal.services.readings import entry
    from portal.services.unit_of_work import session_scope

    show_flash()
    with session_scope() as session:
        user = session.get(User, user_id)
        rows = entry.recent_readings(user, patient_id, session=session, now=now)
    render_reading_fixes(user, patient_id, rows)


@pytest.fixture
def people(app_env, session, monkeypatch):
    freeze_clock(monkeypatch, NOW, reading_fixes)
    return make_people(session)


def _reading(session, people, by, measure, value, unit, value2=None) -> PatientReading:
    return add_reading(
        session,
        by,
        people.alice,
        measure,
        value,
        unit,
        value2=value2,
        taken_at=NOW - timedelta(hours=1),
        now=NOW,
    )


def _open(people):
    return open_component(_fixes, people.alice_user.id, people.alice.id, NOW)


def _values(session) -> list[tuple[float, float | None]]:
    session.expire_all()
    return sorted((r.value, r.value2) for r in session.exec(select(PatientReading)).all())


def test_no_readings_draws_nothing(people):
    at = _open(people)
    assert not at.subheader and not at.selectbox and not at.button


def test_readings_the_care_team_entered_or_was_alerted_about_cannot_be_fixed(session, people):
    _reading(session, people, people.nurse, units.WEIGHT, 71, "kg")
    # Out of range: the care team is alerted, so the patient may no longer change it.
    _reading(session, people, people.alice_user, units.BLOOD_PRESSURE, 190, "mmHg", value2=100)
    at = _open(people)
    assert [h.value for h in at.subheader] == ["Fix a reading"]
    assert NOT_YOURS in texts(at)
    assert not at.button


def test_a_blood_pressure_correction_needs_both_numbers(session, people):
    _reading(session, people, people.alice_user, units.BLOOD_PRESSURE, 130, "mmHg", value2=85)
    at = _open(people)
    assert {n.label for n in at.number_input} == {
        "Systolic (top number)",
        "Diastolic (bottom number)",
    }
    at.number_input(key="fix_value").set_value(125.0)
    click(at, "Save correction")
    assert [e.value for e in at.error] == ["Please enter the corrected numbers."]
    assert _values(session) == [(130, 85)]

    at.number_input(key="fix_value2").set_value(82.0)
    click(at, "Save correction")
    assert [s.value for s in at.success] == ["Corrected: blood pressure is now 125/82 mmHg."]
    assert _values(session) == [(125, 82)]


def test_delete_waits_for_the_tick_and_only_the_chosen_reading_goes(session, people):
    keep = _reading(session, people, people.alice_user, units.WEIGHT, 70, "kg")
    _reading(session, people, people.alice_user, units.HEART_RATE, 64, "bpm")
    at = _open(people)
    assert at.button(key="fix_delete").disabled
    picker = at.selectbox(key="fix_reading_id")
    assert len(picker.options) == 2
    [gone] = [i for i, label in enumerate(picker.options) if "Heart rate" in label]
    picker.select_index(gone)
    at.checkbox(key="fix_confirm_delete").check()
    run_ok(at)
    click(at, "Delete reading")
    assert at.success[0].value.startswith("Deleted: heart rate 64 bpm of ")
    assert _values(session) == [(keep.value, None)]
