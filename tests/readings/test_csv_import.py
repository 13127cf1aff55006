from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from db.models import PatientReading
from portal.errors import InvalidInput
from portal.services.readings import csv_import, entry, units
from portal.services.readings.csv_import import ColumnMapping
from portal.services.readings.entry import ReadingInput, Refusal
from tests.readings.helpers import make_people

NY = ZoneInfo("America/New_York")

MIXED = b"""Date,Type,Value,Unit
2026-11-20 08:00,Weight,165,lb
2026-11-20 08:05,blood pressure,128/82,mmHg
2026-11-20 08:06,Pulse,71,bpm
2026-11-21 07:30,Blood sugar,5.8,mmol/L
yesterday,Weight,70,kg
2026-11-21 09:00,Cholesterol,180,mg/dL
2026-11-21 10:00,Steps,,
"""


def test_preview_reads_the_header_and_guesses_the_mapping():
    preview = csv_import.preview(MIXED)
    assert preview.columns == ["Date", "Type", "Value", "Unit"]
    assert preview.rows[0] == ["2026-11-20 08:00", "Weight", "165", "lb"]
    assert len(preview.rows) == csv_import.PREVIEW_ROWS
    assert preview.guess == ColumnMapping(
        date="Date", value="Value", measure_column="Type", unit_column="Unit"
    )


def test_single_measure_file_named_by_its_column_is_guessed():
    preview = csv_import.preview(b"When;Weight (lb)\n11/20/2026 8:00;165\n")
    assert preview.delimiter == ";"
    # The unit in brackets is taken too, so pounds are not read as kilograms.
    assert preview.guess == ColumnMapping(
        date="When", value="Weight (lb)", measure=units.WEIGHT, unit="lb"
    )


@pytest.mark.parametrize("data", [b"", b"onlyonecolumn\n1\n", b"a,a\n1,2\n"])
def test_files_without_usable_headers_are_refused(data):
    with pytest.raises(InvalidInput):
        csv_import.preview(data)


def test_rows_are_parsed_with_line_numbers_and_reasons():
    mapping = ColumnMapping(date="Date", value="Value", measure_column="Type", unit_column="Unit")
    items = list(csv_import.parse_csv(MIXED, mapping, tz=NY))
    readings = [i for i in items if isinstance(i, ReadingInput)]
    refusals = [i for i in items if isinstance(i, Refusal)]
    assert [r.measure for r in readings] == [
        units.WEIGHT,
        units.BLOOD_PRESSURE,
        units.HEART_RATE,
        units.GLUCOSE,
    ]
    bp = readings[1]
    assert (bp.value, bp.value2, bp.unit) == (128, 82, "mmHg")
    # Clinic time: 08:00 in New York in November is 13:00 UTC.
    assert readings[0].taken_at.astimezone(ZoneInfo("UTC")).hour == 13
    assert [(r.where, r.reason) for r in refusals] == [
        ("line 6", "'yesterday' is not a date we can read."),
        ("line 7", "'Cholesterol' is not a measure the portal tracks."),
        ("line 8", "The value is empty."),
    ]


def test_fixed_measure_and_unit_and_a_separate_diastolic_column():
    data = b"date,systolic,diastolic\n11/20/2026 08:00,130,85\n"
    mapping = ColumnMapping(
        date="date", value="systolic", value2="diastolic", measure=units.BLOOD_PRESSURE
    )
    [reading] = list(csv_import.parse_csv(data, mapping, tz=NY))
    assert (reading.value, reading.value2, reading.unit) == (130, 85, "mmHg")


def test_mapping_naming_a_missing_column_or_no_measure_is_refused():
    with pytest.raises(InvalidInput, match="no column 'When'"):
        list(csv_import.parse_csv(MIXED, ColumnMapping(date="When", value="Value"), tz=NY))
    with pytest.raises(InvalidInput, match="measure"):
        list(csv_import.parse_csv(MIXED, ColumnMapping(date="Date", value="Value"), tz=NY))


def test_import_of_a_csv_twice_adds_nothing_the_second_time(session, now):
    people = make_people(session)
    mapping = ColumnMapping(date="Date", value="Value", measure_column="Type", unit_column="Unit")

    def run():
        return entry.import_readings(
            people.alice_user,
            people.alice.id,
            csv_import.parse_csv(MIXED, mapping, tz=NY),
            session=session,
            now=now,
            source="csv",
            label="readings.csv",
        )

    first, second = run(), run()
    assert (first.added, first.duplicates, first.refused) == (4, 0, 3)
    assert (second.added, second.duplicates, second.refused) == (0, 4, 3)
    weights = session.exec(
        select(PatientReading).where(PatientReading.measure == units.WEIGHT)
    ).all()
    assert [round(w.value, 2) for w in weights] == [74.84]


def test_windows_encoded_file_with_bom_free_text_is_read():
    data = "Date,Value\n2026-11-20 08:00,70\n".encode("cp1252")
    mapping = ColumnMapping(date="Date", value="Value", measure=units.WEIGHT, unit="kg")
    [reading] = list(csv_import.parse_csv(data, mapping, tz=NY))
    assert reading.value == 70
