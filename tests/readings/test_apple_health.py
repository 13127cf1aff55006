import io
import tracemalloc
from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import PatientReading
from portal.services.readings import entry, units
from portal.services.readings.apple_health import AppleHealthFile
from portal.services.readings.entry import ImportRefused, ReadingInput, Refusal
from tests.readings.helpers import apple_bp, apple_export, apple_record, make_people


def _sample(now) -> bytes:
    day = now - timedelta(days=2)
    return apple_export(
        apple_record("BodyMass", "165", "lb", day)
        + apple_bp(128, 82, day + timedelta(hours=1))
        # Many exports repeat the correlation's halves at top level: a duplicate, not a new one.
        + apple_record("BloodPressureSystolic", "128", "mmHg", day + timedelta(hours=1), "Cuff")
        + apple_record("BloodPressureDiastolic", "82", "mmHg", day + timedelta(hours=1), "Cuff")
        + apple_record("HeartRate", "72", "count/min", day + timedelta(hours=2))
        + apple_record("OxygenSaturation", "0.97", "%", day + timedelta(hours=3))
        + apple_record("StepCount", "1200", "count", day + timedelta(hours=4))
        + apple_record("BloodGlucose", "5.5", "mmol<180.1558800000541>/L", day)
        + apple_record("ActiveEnergyBurned", "12", "kcal", day)
        + apple_record("HeartRate", "lots", "count/min", day)
        + apple_record("HeartRate", "400", "count/min", day + timedelta(hours=5))
        + apple_record("BloodPressureSystolic", "150", "mmHg", day + timedelta(hours=6))
    )


def test_parser_turns_records_into_readings_in_canonical_terms(now):
    parsed = AppleHealthFile(io.BytesIO(_sample(now)))
    items = list(parsed.readings())
    readings = [i for i in items if isinstance(i, ReadingInput)]
    refusals = [i for i in items if isinstance(i, Refusal)]
    by_measure = {}
    for r in readings:
        by_measure.setdefault(r.measure, []).append(r)
    assert len(by_measure[units.BLOOD_PRESSURE]) == 2  # correlation + its top-level copy
    assert (
        by_measure[units.BLOOD_PRESSURE][0].value,
        by_measure[units.BLOOD_PRESSURE][0].value2,
    ) == (
        128,
        82,
    )
    assert by_measure[units.SPO2][0].value == pytest.approx(97)
    assert by_measure[units.WEIGHT][0].unit == "lb"
    assert by_measure[units.WEIGHT][0].taken_at.utcoffset() == timedelta(0)
    assert [r.reason for r in refusals] == [
        "The value or the date could not be read.",
        "The diastolic number is missing.",
    ]
    assert parsed.skipped == {"ActiveEnergyBurned": 1}


def test_import_of_an_export_reports_and_a_second_import_adds_nothing(session, now):
    people = make_people(session)

    def run():
        parsed = AppleHealthFile(io.BytesIO(_sample(now)))
        return entry.import_readings(
            people.alice_user,
            people.alice.id,
            parsed.readings(),
            session=session,
            now=now,
            source="apple_health",
            label="export.xml",
            skipped=parsed.skipped,
        )

    first = run()
    # weight, BP, heart rate, SpO2, steps, glucose; BP's top-level copy is a duplicate; the
    # heart rate of 400 and the unreadable one and the lone systolic are refused.
    assert (first.added, first.duplicates, first.refused) == (6, 1, 3)
    assert first.skipped == {"ActiveEnergyBurned": 1}
    assert any("Heart rate of 400" in e for e in first.examples)
    second = run()
    assert (second.added, second.duplicates, second.refused) == (0, 7, 3)
    stored = session.exec(select(PatientReading)).all()
    assert len(stored) == 6
    glucose = next(r for r in stored if r.measure == units.GLUCOSE)
    assert glucose.value == pytest.approx(99.09, abs=0.01)
    assert {r.source for r in stored} == {"apple_health"}


def test_broken_file_is_refused_whole_after_the_readable_part_was_parsed(now):
    data = _sample(now)[:-40]  # cut off mid-record
    readings = AppleHealthFile(io.BytesIO(data)).readings()
    assert isinstance(next(readings), ReadingInput)  # still streams
    with pytest.raises(ImportRefused, match="not a complete Apple Health export"):
        list(readings)


class _CountingReader(io.RawIOBase):
    """A file that says how far it has been read, to prove the parser streams."""

    def __init__(self, data: bytes):
        self._buffer = io.BytesIO(data)
        self.consumed = 0

    def readable(self):
        return True

    def readinto(self, target):
        chunk = self._buffer.read(len(target))
        target[: len(chunk)] = chunk
        self.consumed += len(chunk)
        return len(chunk)


def _big_export(now, records: int) -> bytes:
    start = now - timedelta(days=60)
    body = "".join(
        apple_record("HeartRate", str(60 + n % 40), "count/min", start + timedelta(minutes=n))
        for n in range(records)
    )
    return apple_export(body)


def test_parser_streams_first_readings_before_reading_the_whole_file(now):
    data = _big_export(now, 20_000)
    source = _CountingReader(data)
    readings = AppleHealthFile(source).readings()
    first = next(readings)
    assert isinstance(first, ReadingInput)
    assert source.consumed < len(data) / 10
    assert sum(1 for _ in readings) == 19_999


def test_parser_memory_stays_far_below_the_file_size(now):
    data = _big_export(now, 12_000)  # about 3.6 MB
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        count = sum(1 for _ in AppleHealthFile(io.BytesIO(data)).readings())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 12_000
    # Without clearing, the tree of 12,000 records alone takes over 15 MB.
    assert peak - before < 3 * 1024 * 1024, f"peak {peak - before} bytes for {len(data)} bytes"
