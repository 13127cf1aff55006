"""Inputs the importer fuzzer (bench/fuzz_imports.py) found crashing, kept as regressions, and a
short property run of the same contract: every file is read or refused in plain words."""

import io
import struct
import zipfile
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings

from bench import fuzz_imports
from portal.errors import InvalidInput
from portal.services.readings import apple_health, csv_import
from portal.services.readings.entry import ImportRefused, ReadingInput, Refusal

NY = ZoneInfo("America/New_York")
MAPPING = fuzz_imports.CSV_MAPPING


def _zip(xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.xml", xml)
    return buffer.getvalue()


def test_csv_preview_of_a_bare_carriage_return_in_a_field_is_no_csv_error():
    # Was: _csv.Error "new-line character seen in unquoted field" out of preview().
    data = b"date,measure,value,unit\n2026-11-20T08:00:00Z,weight,\r0\r,lb"
    preview = csv_import.preview(data)
    assert preview.columns == ["date", "measure", "value", "unit"]
    items = list(csv_import.parse_csv(data, MAPPING, tz=NY))
    assert all(isinstance(i, ReadingInput | Refusal) for i in items)


def test_csv_row_shorter_than_the_header_is_a_refusal_not_a_type_error():
    # Was: TypeError 'NoneType' object is not subscriptable (a missing measure cell is None).
    data = b"date,measure,value,unit\n2026-11-20T08:00:00Z"
    [item] = list(csv_import.parse_csv(data, MAPPING, tz=NY))
    assert isinstance(item, Refusal) and "is not a measure" in item.reason


def test_csv_in_utf16_with_its_byte_order_mark_is_read():
    # Was read as cp1252: column names full of NUL characters.
    data = "date,measure,value,unit\r\n2026-11-20T08:00:00Z,weight,150,lb\r\n".encode("utf-16")
    assert csv_import.preview(data).columns == ["date", "measure", "value", "unit"]
    [item] = list(csv_import.parse_csv(data, MAPPING, tz=NY))
    assert (item.measure, item.value) == ("weight", 150)


def test_csv_cells_beyond_the_header_count_against_the_field_limit():
    data = b"date,measure,value,unit\n2026-11-20T08:00:00Z,weight,150,lb," + b"x" * 5000
    with pytest.raises(ImportRefused, match="field longer than 1,000"):
        list(csv_import.parse_csv(data, MAPPING, tz=NY))


def test_apple_date_of_year_one_ahead_of_utc_is_refused_not_an_overflow():
    # Was: OverflowError "date value out of range" in normalise().
    xml = (
        b'<HealthData><Record type="HKQuantityTypeIdentifierBodyMass" unit="lb" '
        b'startDate="0001-01-01 00:00:00 +1400" value="72"/></HealthData>'
    )
    fuzz_imports.check_apple(xml, "export.xml")  # raises if the contract breaks
    [item] = list(apple_health.AppleHealthFile(io.BytesIO(xml)).readings())
    with pytest.raises(InvalidInput, match="before 1900"):
        from portal.services.readings.entry import normalise

        normalise(1, item, source="t", now=fuzz_imports.NOW, actor=None)


def test_apple_export_declaring_an_unknown_encoding_is_refused():
    # Was: LookupError "unknown encoding: U-TF-8" out of iterparse.
    xml = b'<?xml version="1.0" encoding="U-TF-8"?><HealthData/>'
    with pytest.raises(ImportRefused, match="encoding that is not known"):
        list(apple_health.AppleHealthFile(io.BytesIO(xml)).readings())


def test_apple_zip_with_a_damaged_stream_is_refused():
    # Was: zlib.error / BadZipFile (bad CRC) raised while streaming export.xml.
    data = bytearray(_zip(b"<HealthData>" + b"<Record/>" * 2000 + b"</HealthData>"))
    data[60:70] = b"\x00" * 10  # inside the deflated data
    with (
        pytest.raises(ImportRefused),
        apple_health.export_stream(io.BytesIO(bytes(data)), "export.zip") as stream,
    ):
        list(apple_health.AppleHealthFile(stream).readings())


def test_apple_zip_of_an_unknown_version_is_refused():
    # Was: NotImplementedError "zip file version 6.4" out of zipfile.ZipFile().
    data = bytearray(_zip(b"<HealthData/>"))
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = struct.pack("<H", 64)  # version needed to extract
    with (
        pytest.raises(ImportRefused, match="not a valid zip"),
        apple_health.export_stream(io.BytesIO(bytes(data)), "export.zip"),
    ):
        pass


_SHORT = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@_SHORT
@given(fuzz_imports.csv_files())
def test_any_csv_is_read_or_refused_in_plain_words(data):
    fuzz_imports.check_csv(data)


@_SHORT
@given(fuzz_imports.apple_exports())
def test_any_apple_health_file_is_read_or_refused_in_plain_words(pair):
    fuzz_imports.check_apple(*pair)


@_SHORT
@given(fuzz_imports.fhir_files())
def test_any_fhir_file_is_read_or_refused_in_plain_words(data):
    fuzz_imports.check_fhir(data)
