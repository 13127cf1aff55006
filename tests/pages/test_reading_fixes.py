"""Issue 12 item 8: from My readings a patient corrects and deletes a reading they entered."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from db.models import PatientReading
from portal.services.readings import entry, units
from tests.harness import click, open_app, run_ok
from tests.readings.helpers import make_people


def test_a_patient_corrects_then_deletes_their_own_reading(app_env, session):
    people = make_people(session)
    real_now = datetime.now(UTC)
    for kg, by in ((170, people.alice_user), (71, people.nurse)):
        entry.add_reading(
            by,
            people.alice.id,
            session=session,
            now=real_now,
            measure=units.WEIGHT,
            value=kg,
            unit="kg",
            taken_at=real_now - timedelta(hours=1 if kg == 170 else 2),
        )

    at = open_app("alice", "pages/readings.py")
    # Only the reading Alice entered is offered; the nurse's is not.
    picker = at.selectbox(key="fix_reading_id")
    assert [label.split(" · ")[-1] for label in picker.options] == ["170.0 kg"]
    at.number_input(key="fix_value").set_value(70.0)
    at.selectbox(key="fix_unit").set_value("kg")
    click(at, "Save correction")
    assert [s.value for s in at.success] == ["Corrected: weight is now 70.0 kg."]
    session.expire_all()
    assert sorted(r.value for r in session.exec(select(PatientReading)).all()) == [70, 71]

    at.checkbox(key="fix_confirm_delete").check()
    run_ok(at)
    click(at, "Delete reading")
    assert at.success and at.success[0].value.startswith("Deleted: weight 70.0 kg")
    session.expire_all()
    assert [r.value for r in session.exec(select(PatientReading)).all()] == [71]
