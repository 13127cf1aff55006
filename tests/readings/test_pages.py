"""The readings pages driven through the real app with AppTest (patient, caregiver, staff)."""

import io
import zipfile
from datetime import timedelta

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components import session_keys as keys
from db.models import HealthGoal, PatientReading, ReadingThreshold, Role, TriageItem
from portal.services.readings import entry, units
from tests.factories import create_observation
from tests.harness import click, force_page, menu_titles, open_app, run_ok, table_values, texts
from tests.readings.helpers import apple_bp, apple_export, apple_record, make_people


def _open(username: str, page: str, **state) -> AppTest:
    return open_app(username, page, timeout=60, **state)


def _readings(session):
    session.expire_all()
    return session.exec(select(PatientReading)).all()


def test_patient_enters_a_weight_in_pounds_and_sees_it(app_env, session):
    people = make_people(session)
    at = _open("alice", "pages/readings.py")
    at.selectbox(key="reading_measure").set_value(units.WEIGHT).run()
    at.number_input(key="reading_value").set_value(165.0)
    at.selectbox(key="reading_unit").set_value("lb")
    click(at, "Save reading")
    [success] = [s.value for s in at.success]
    assert success.startswith("Saved: weight 74.8 kg on ")
    [reading] = _readings(session)
    assert (reading.patient_id, reading.entered_unit) == (people.alice.id, "lb")
    assert "165.0 lb" in table_values(at)


def test_blood_pressure_out_of_range_tells_the_patient_the_team_was_told(app_env, session):
    make_people(session)
    at = _open("alice", "pages/readings.py")
    at.number_input(key="reading_value").set_value(190.0)
    at.number_input(key="reading_value2").set_value(100.0)
    click(at, "Save reading")
    assert "they have been told" in at.success[0].value
    session.expire_all()
    assert [i.kind for i in session.exec(select(TriageItem))] == ["reading_alert"]


def test_impossible_reading_is_refused_in_plain_words(app_env, session):
    make_people(session)
    at = _open("alice", "pages/readings.py")
    at.selectbox(key="reading_measure").set_value(units.SPO2).run()
    at.number_input(key="reading_value").set_value(140.0)
    click(at, "Save reading")
    assert "outside what we can accept" in at.error[0].value
    assert _readings(session) == []


def test_patient_imports_a_csv_through_the_mapping_step_and_repeats_it(app_env, session):
    make_people(session)
    data = b"When,Weight (lb)\n11/20/2026 08:00,165\n11/21/2026 08:00,164\nbad,1\n"
    at = _open("alice", "pages/readings.py")
    at.radio(key="import_kind").set_value("csv").run()
    at.file_uploader(key="import_file_csv").set_value(("scale.csv", data, "text/csv"))
    run_ok(at)
    # The mapping step shows the file and the guessed columns.
    assert "11/20/2026 08:00" in table_values(at)
    assert at.selectbox(key="map_date").value == "When"
    assert at.selectbox(key="map_value").value == "Weight (lb)"
    assert at.selectbox(key="map_measure").value == units.WEIGHT
    at.selectbox(key="map_unit").set_value("lb")
    click(at, "Import readings")
    # One row refused: a warning, not a green success.
    assert "Import finished: 2 added, 0 already there, 1 refused." in [w.value for w in at.warning]
    assert "1 × 'bad' is not a date we can read." in texts(at)
    click(at, "Import readings")
    assert "Import finished: 0 added, 2 already there, 1 refused." in [w.value for w in at.warning]
    assert sorted(round(r.value, 1) for r in _readings(session)) == [74.4, 74.8]


def test_patient_imports_an_apple_health_export_twice(app_env, session, now):
    make_people(session)
    day = now - timedelta(days=3)
    export = apple_export(
        apple_record("BodyMass", "70", "kg", day)
        + apple_bp(125, 80, day + timedelta(hours=1))
        + apple_record("ActiveEnergyBurned", "12", "kcal", day)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("apple_health_export/export.xml", export)
    at = _open("alice", "pages/readings.py")
    at.file_uploader(key="import_file_apple_health").set_value(
        ("export.zip", buffer.getvalue(), "application/zip")
    )
    run_ok(at)
    click(at, "Import readings")
    assert "Import finished: 2 added, 0 already there, 0 refused." in [s.value for s in at.success]
    assert any("were left out" in t for t in texts(at))
    click(at, "Import readings")
    assert "Import finished: 0 added, 2 already there, 0 refused." in [w.value for w in at.warning]
    assert len(_readings(session)) == 2


def test_a_zip_without_an_export_is_refused_plainly(app_env, session):
    make_people(session)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/cat.jpg", b"x")
    at = _open("alice", "pages/readings.py")
    at.file_uploader(key="import_file_apple_health").set_value(
        ("export.zip", buffer.getvalue(), "application/zip")
    )
    run_ok(at)
    click(at, "Import readings")
    assert "Nothing was imported: the zip has no export.xml" in at.error[0].value


def test_patient_sets_a_steps_goal_and_sees_progress(app_env, session, now):
    people = make_people(session)
    entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        measure=units.STEPS,
        value=9000,
        unit="steps",
        taken_at=now - timedelta(hours=1),
    )
    at = _open("alice", "pages/readings.py")
    at.selectbox(key="my_goals_goal_kind").set_value("steps_per_day").run()
    at.number_input(key="my_goals_goal_target").set_value(8000.0)
    click(at, "Save goal")
    assert "Goal saved: Steps per day, at least." in [s.value for s in at.success]
    assert "Steps per day, at least 8000 steps · On target" in texts(at)
    assert len(at.get("vega_lite_chart")) >= 1
    [goal] = session.exec(select(HealthGoal)).all()
    assert goal.set_by_user_id == people.alice_user.id


def test_caregiver_enters_a_reading_for_the_record_they_look_after(app_env, session):
    people = make_people(session)
    at = _open("carer", "pages/readings.py")
    at.selectbox(key="reading_measure").set_value(units.HEART_RATE).run()
    at.number_input(key="reading_value").set_value(72.0)
    # The button names whose record the reading goes on.
    click(at, f"Save reading for {people.alice.given_name}")
    assert at.success
    assert [r.patient_id for r in _readings(session)] == [people.alice.id]


def test_clinician_sets_thresholds_and_a_goal_from_the_open_chart(app_env, session):
    people = make_people(session)
    at = _open(
        "doctor", "pages/home_monitoring.py", **{keys.STAFF_OPEN_PATIENT_ID: people.alice.id}
    )
    assert "No reading alerts for this patient." in [i.value for i in at.info]
    at.selectbox(key="threshold_measure").set_value(units.GLUCOSE).run()
    at.number_input(key="th_high_glucose").set_value(180.0)
    click(at, "Save thresholds")
    assert "Alert thresholds saved for blood glucose." in [s.value for s in at.success]
    [row] = session.exec(select(ReadingThreshold)).all()
    assert (row.patient_id, row.low, row.high) == (people.alice.id, 70, 180)

    at.selectbox(key="staff_goals_goal_kind").set_value("a1c_under").run()
    at.number_input(key="staff_goals_goal_target").set_value(7.0)
    click(at, "Save goal")
    assert "A1c under 7.0 % · No readings yet" in texts(at)


def test_nurse_sees_thresholds_but_cannot_change_them(app_env, session):
    people = make_people(session)
    at = _open("nurse", "pages/home_monitoring.py", **{keys.STAFF_OPEN_PATIENT_ID: people.alice.id})
    assert "Only a clinician can change a patient's alert thresholds." in texts(at)
    assert not [b for b in at.button if b.label == "Save thresholds"]


def test_staff_work_a_reading_alert_from_the_triage_inbox(app_env, session, now):
    people = make_people(session)
    for minutes, systolic in ((50, 182), (20, 176)):
        entry.add_reading(
            people.alice_user,
            people.alice.id,
            session=session,
            now=now,
            measure=units.BLOOD_PRESSURE,
            value=systolic,
            value2=90,
            unit="mmHg",
            taken_at=now - timedelta(minutes=minutes),
        )
    at = _open("nurse", "pages/triage_inbox.py")
    assert {m.label: m.value for m in at.metric}["Reading alert"] == "1"
    assert "182/90 mmHg" in table_values(at) or any("182/90" in c for c in table_values(at))
    assert "Ongoing: 2 reading(s) out of range so far." in texts(at)
    click(at, "Open home monitoring")
    assert at.session_state[keys.STAFF_OPEN_PATIENT_ID] == people.alice.id


def test_patient_is_not_in_home_monitoring_and_cannot_open_it(app_env, session, monkeypatch):
    make_people(session)
    patient_pages = menu_titles(Role.PATIENT)
    staff_pages = menu_titles(Role.NURSE)
    assert "Home monitoring" not in patient_pages
    assert "My readings" in patient_pages
    assert "Home monitoring" in staff_pages
    # Even run directly, the page refuses a patient before showing anything.
    at = force_page("alice", "pages/home_monitoring.py")
    assert [e.value for e in at.error] == ["This page is for clinic staff."]
    assert not at.tabs


def test_results_page_shows_home_readings_beside_clinic_weights(app_env, session, now):
    people = make_people(session)
    create_observation(
        session,
        people.alice,
        code="29463-7",
        display="Body weight",
        value=80,
        unit="kg",
        category="vital-signs",
        effective_at=now - timedelta(days=200),
    )
    entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        measure=units.WEIGHT,
        value=176,
        unit="lb",
        taken_at=now - timedelta(days=2),
    )
    at = _open("alice", "pages/results.py")
    # Weight is a vital sign: the page shows one view at a time.
    at.button_group(key="results_view").set_value("vital-signs")
    run_ok(at)
    assert any("readings taken at home" in c for c in texts(at))
    assert at.get("segmented_control")
    assert len(at.get("vega_lite_chart")) == 1
