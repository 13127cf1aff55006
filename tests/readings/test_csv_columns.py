"""Issue 12 item 8: common column names, a preview, and clinic rows never taken as home readings."""

from datetime import UTC, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from db.models import PatientReading
from portal.services.readings import csv_import, file_import, units
from portal.services.readings.csv_import import ColumnMapping
from tests.readings.helpers import make_people

NY = ZoneInfo("America/New_York")
TWO_COLUMNS = b"""date,systolic,diastolic
2026-11-20 08:00,128,82
2026-11-21 08:00,131,84
"""


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("date,systolic,diastolic", dict(value="systolic", value2="diastolic")),
        ("Date,Time,SYS,DIA,Pulse", dict(value="SYS", value2="DIA", time="Time")),
        (
            "Measurement Date,SYS (mmHg),DIA (mmHg),Pulse (bpm)",
            dict(date="Measurement Date", value="SYS (mmHg)", value2="DIA (mmHg)", unit="mmHg"),
        ),
    ],
)
def test_blood_pressure_columns_are_recognised(header, expected):
    guess = csv_import.preview(f"{header}\n".encode() + b"x,1,2,3,4\n").guess
    assert guess.measure == units.BLOOD_PRESSURE
    for field, value in expected.items():
        assert getattr(guess, field) == value, field


@pytest.mark.parametrize(
    ("header", "measure", "unit"),
    [
        ("Date,Weight (lb)", units.WEIGHT, "lb"),
        ("Timestamp,Pulse", units.HEART_RATE, None),
        ("Date/Time,Glucose (mmol/L)", units.GLUCOSE, "mmol/L"),
    ],
)
def test_single_measure_columns_are_recognised(header, measure, unit):
    guess = csv_import.preview(f"{header}\n1,2\n".encode()).guess
    assert (guess.measure, guess.unit) == (measure, unit)


def test_date_and_time_in_two_columns_make_one_time():
    data = b"Date,Time,SYS,DIA\n11/20/2026,07:45,128,82\n"
    guess = csv_import.preview(data).guess
    [reading] = list(csv_import.parse_csv(data, guess, tz=NY))
    assert (reading.value, reading.value2) == (128, 82)
    assert reading.taken_at == datetime(2026, 11, 20, 12, 45, tzinfo=UTC)


def test_the_preview_shows_readings_as_they_will_be_stored(now):
    data = TWO_COLUMNS + b"2026-11-22 08:00,400,84\n"
    guess = csv_import.preview(data).guess
    rows = csv_import.preview_readings(data, guess, tz=NY, now=now)
    assert [(r.where, r.measure, r.reading) for r in rows[:2]] == [
        ("line 2", "Blood pressure", "128/82 mmHg"),
        ("line 3", "Blood pressure", "131/84 mmHg"),
    ]
    assert rows[2].problem and not rows[2].reading


def _import(people, session, now, data, mapping):
    return file_import.import_file(
        people.alice_user,
        people.alice.id,
        kind=file_import.CSV,
        upload=BytesIO(data),
        filename="readings.csv",
        mapping=mapping,
        session=session,
        now=now,
    )


def test_systolic_diastolic_file_imports_as_blood_pressure(session, now):
    people = make_people(session)
    report = _import(people, session, now, TWO_COLUMNS, csv_import.preview(TWO_COLUMNS).guess)
    assert (report.added, report.refused) == (2, 0)
    stored = session.exec(select(PatientReading).order_by(PatientReading.taken_at)).all()
    assert [(r.measure, r.value, r.value2) for r in stored] == [
        (units.BLOOD_PRESSURE, 128, 82),
        (units.BLOOD_PRESSURE, 131, 84),
    ]


def test_rows_the_portal_export_marks_as_clinic_are_never_home_readings(session, now):
    people = make_people(session)
    data = b"""When,Measure,Value,Unit,Source
2026-11-20 08:00,Weight,80,kg,Clinic
2026-11-20 09:00,Weight,81,kg,Home reading
2026-11-21 08:00,Pulse,70,bpm,clinic
"""
    mapping = ColumnMapping(
        date="When", value="Value", measure_column="Measure", unit_column="Unit"
    )
    report = _import(people, session, now, data, mapping)
    assert (report.added, report.refused) == (1, 2)
    assert "measured at the clinic" in next(iter(report.reasons))
    [stored] = session.exec(select(PatientReading)).all()
    assert (stored.measure, stored.value) == (units.WEIGHT, 81)
