"""Issue 12 item 8 on the page: common columns guessed, a preview, failure shown as failure."""

from sqlmodel import select

from db.models import PatientReading
from portal.services.attachments import upload_limit_mb
from portal.services.readings import file_import, units
from tests.harness import click, open_app, run_ok, table_values
from tests.readings.helpers import make_people


def _upload(data: bytes):
    at = open_app("alice", "pages/readings.py")
    at.radio(key="import_kind").set_value("csv").run()
    at.file_uploader(key="import_file_csv").set_value(("monitor.csv", data, "text/csv"))
    return run_ok(at)


def test_systolic_diastolic_columns_are_previewed_and_imported_as_blood_pressure(app_env, session):
    make_people(session)
    at = _upload(b"date,systolic,diastolic\n2026-11-20 08:00,128,82\n2026-11-21 08:00,131,84\n")
    assert at.selectbox(key="map_value").value == "systolic"
    assert at.selectbox(key="map_value2").value == "diastolic"
    assert at.selectbox(key="map_measure").value == units.BLOOD_PRESSURE
    # Before anything is saved, the rows as they will be stored.
    assert {"128/82 mmHg", "131/84 mmHg"} <= set(table_values(at))
    assert session.exec(select(PatientReading)).all() == []
    click(at, "Import readings")
    assert [s.value for s in at.success] == [
        "Import finished: 2 added, 0 already there, 0 refused."
    ]
    stored = session.exec(select(PatientReading)).all()
    assert sorted((r.measure, r.value, r.value2) for r in stored) == [
        (units.BLOOD_PRESSURE, 128, 82),
        (units.BLOOD_PRESSURE, 131, 84),
    ]


def test_an_import_that_adds_nothing_is_an_error_not_a_success(app_env, session):
    make_people(session)
    # The portal's own trend export: every row a clinic measurement.
    at = _upload(
        b"When,Measure,Value,Unit,Source\n"
        b"2026-11-20 08:00,Weight,80,kg,Clinic\n2026-11-21 08:00,Weight,81,kg,Clinic\n"
    )
    click(at, "Import readings")
    assert not at.success
    assert [e.value for e in at.error] == [
        "Nothing was imported: 0 added, 0 already there, 2 refused."
    ]
    assert session.exec(select(PatientReading)).all() == []


def test_each_kind_of_file_gets_its_own_size_limit_in_the_picker(app_env, session):
    make_people(session)
    at = open_app("alice", "pages/readings.py")
    shown = {}
    for kind in file_import.KINDS:
        at.radio(key="import_kind").set_value(kind).run()
        shown[kind] = at.file_uploader(key=f"import_file_{kind}").proto.max_upload_size_mb
    assert shown == {
        kind: upload_limit_mb(file_import.limits_for(kind).max_bytes) for kind in file_import.KINDS
    }
    assert len(set(shown.values())) > 1  # CSV, Apple Health and FHIR files differ
