"""Hostile and broken files (issue 15, findings 1-3): every import is bounded by the limits in
Settings, stores all of a file or none of it, and refuses readings about somebody else."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from db.models import AuditEvent, PatientReading
from portal.config import Settings
from portal.services.readings import alerts, entry, file_import
from portal.services.readings.csv_import import ColumnMapping
from portal.services.readings.entry import ImportBudget, ImportRefused
from tests.readings.helpers import apple_export, apple_record, make_people

WEIGHT_MAPPING = ColumnMapping(date="date", value="value", measure="weight", unit="lb")


def _csv_rows(now, n: int) -> str:
    start = now - timedelta(days=30)
    return "".join(
        f"{(start + timedelta(minutes=i)).isoformat()},{150 + i % 20}\n" for i in range(n)
    )


def _import(people, session, now, kind, data: bytes, name: str, **settings):
    return file_import.import_file(
        people.alice_user,
        people.alice.id,
        kind=kind,
        upload=io.BytesIO(data),
        filename=name,
        mapping=WEIGHT_MAPPING if kind == file_import.CSV else None,
        session=session,
        now=now,
        settings=Settings(**settings),
    )


def _stored(session) -> int:
    return len(session.exec(select(PatientReading)).all())


def _refused_imports(session) -> list[str]:
    return list(
        session.exec(
            select(AuditEvent.detail).where(
                AuditEvent.action == "import", AuditEvent.outcome == "failure"
            )
        ).all()
    )


# --- finding 2: a crash after a partial write ----------------------------------------------


def test_csv_with_a_huge_field_after_1000_rows_stores_nothing_and_says_why(session, now):
    people = make_people(session)
    data = "date,value\n" + _csv_rows(now, 1500) + f"{now.isoformat()},{'9' * 50_000}\n"
    with pytest.raises(ImportRefused, match="line 1502 has a field longer than 1,000"):
        _import(people, session, now, file_import.CSV, data.encode(), "big.csv")
    assert _stored(session) == 0
    assert _refused_imports(session) == [
        "big.csv: nothing stored: line 1502 has a field longer than 1,000 characters; this does "
        "not look like a file of readings."
    ]


def test_csv_field_over_the_csv_modules_own_limit_is_a_refusal_not_a_crash(session, now):
    people = make_people(session)
    data = "date,value\n" + _csv_rows(now, 1200) + '"' + "x" * 200_000 + '",1\n'
    with pytest.raises(ImportRefused, match="cannot be read as CSV after line 1201"):
        _import(
            people, session, now, file_import.CSV, data.encode(), "a.csv",
            csv_import_max_field_chars=10**7,
        )  # fmt: skip
    assert _stored(session) == 0


def test_truncated_apple_health_export_stores_none_of_its_readings(session, now):
    people = make_people(session)
    body = "".join(
        apple_record("HeartRate", "70", "count/min", now - timedelta(minutes=n))
        for n in range(3000)
    )
    data = apple_export(body)[:-500]
    with pytest.raises(ImportRefused, match="not a complete Apple Health export"):
        _import(people, session, now, file_import.APPLE_HEALTH, data, "export.xml")
    assert _stored(session) == 0
    assert len(_refused_imports(session)) == 1


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_fhir_json_is_refused_not_a_recursion_error(session, now, depth):
    people = make_people(session)
    data = ('{"resourceType":"Bundle","entry":' + "[" * depth + "]" * depth + "}").encode()
    with pytest.raises(ImportRefused, match="nests deeper than 64 levels"):
        _import(people, session, now, file_import.FHIR, data, "deep.json")
    assert _stored(session) == 0


def test_deeply_nested_xml_is_refused(session, now):
    people = make_people(session)
    data = b"<HealthData>" + b"<a>" * 50 + b"</a>" * 50 + b"</HealthData>"
    with pytest.raises(ImportRefused, match="nests deeper than 16 levels"):
        _import(people, session, now, file_import.APPLE_HEALTH, data, "export.xml")


def test_a_database_failure_mid_import_rolls_back_every_batch(session, now, monkeypatch):
    people = make_people(session)
    data = ("date,value\n" + _csv_rows(now, 2500)).encode()
    calls = []
    real = alerts.evaluate

    def fail_on_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OperationalError("INSERT", {}, Exception("disk full"))
        return real(*args, **kwargs)

    monkeypatch.setattr(alerts, "evaluate", fail_on_third_batch)
    with pytest.raises(ImportRefused, match="database could not store it"):
        _import(people, session, now, file_import.CSV, data, "w.csv")
    assert len(calls) == 3  # two batches were flushed before the failure
    assert _stored(session) == 0
    monkeypatch.setattr(alerts, "evaluate", real)
    report = _import(people, session, now, file_import.CSV, data, "w.csv")
    assert report.added == 2500 and _stored(session) == 2500


def test_a_file_with_refused_rows_stores_the_rest_and_reports_them(session, now):
    people = make_people(session)
    data = ("date,value\n" + _csv_rows(now, 5) + "soon,150\nyesterday,heavy\n").encode()
    report = _import(people, session, now, file_import.CSV, data, "w.csv")
    assert (report.added, report.refused) == (5, 2)
    assert _stored(session) == 5


# --- finding 1: one upload tying up the server ---------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(session, now):
    people = make_people(session)
    data = ("date,value\n" + _csv_rows(now, 2000)).encode()
    with pytest.raises(ImportRefused, match="larger than 0 MB"):
        _import(people, session, now, file_import.CSV, data, "w.csv", csv_import_max_bytes=1000)
    assert _stored(session) == 0


def test_more_rows_than_the_limit_refuse_the_file(session, now):
    people = make_people(session)
    data = ("date,value\n" + _csv_rows(now, 120)).encode()
    with pytest.raises(ImportRefused, match="more than 100 lines"):
        _import(people, session, now, file_import.CSV, data, "w.csv", csv_import_max_rows=100)
    assert _stored(session) == 0


def test_a_zip_bomb_is_refused_at_the_decompressed_limit(session, now):
    people = make_people(session)
    body = apple_record("HeartRate", "70", "count/min", now - timedelta(days=1)) * 200_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("apple_health_export/export.xml", apple_export(body))
    assert len(buffer.getvalue()) < 300_000  # 50 MB inside
    with pytest.raises(ImportRefused, match="more than 1 MB of data|larger than 1 MB"):
        _import(
            people, session, now, file_import.APPLE_HEALTH, buffer.getvalue(), "export.zip",
            apple_health_import_max_xml_bytes=1024**2,
        )  # fmt: skip
    assert _stored(session) == 0


def test_a_zip_that_understates_its_size_is_still_cut_off(session, now):
    """The directory's size is the attacker's word; the bound counts bytes really inflated."""
    from portal.services.readings import apple_health

    body = apple_record("HeartRate", "70", "count/min", now - timedelta(days=1)) * 20_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.xml", apple_export(body))
    buffer.seek(0)
    with (
        apple_health.export_stream(buffer, "export.zip", max_xml_bytes=10**9) as stream,
        pytest.raises(ImportRefused, match="more than 0 MB"),
    ):
        stream.raw.limit = 100_000  # as if the directory had claimed 100 KB
        stream.read()


def test_the_wall_time_limit_refuses_a_slow_file_and_stores_nothing(session, now):
    people = make_people(session)
    ticks = iter(range(0, 10**6, 25))  # each look at the clock: 25 more seconds

    budget = ImportBudget(max_records=10**6, max_seconds=60, clock=lambda: next(ticks))
    items = [
        entry.ReadingInput("weight", 150, "lb", now - timedelta(minutes=n)) for n in range(3000)
    ]
    with pytest.raises(ImportRefused, match="longer than 60 seconds"):
        entry.import_readings(
            people.alice_user, people.alice.id, items, session=session, now=now,
            source="csv", label="slow.csv", budget=budget,
        )  # fmt: skip
    assert _stored(session) == 0


def test_streamlit_upload_limit_matches_the_largest_import_allowed():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).parents[2] / ".streamlit/config.toml").read_text())
    settings = Settings()
    largest = max(file_import.largest_upload_bytes(settings), settings.attachment_max_bytes)
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == largest


# --- finding 3: someone else's readings -----------------------------------------------------


def _bundle(subject: dict | None, extra: list | None = None) -> bytes:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "effectiveDateTime": "2026-11-20T08:00:00Z",
        "valueQuantity": {"value": 165, "unit": "lb"},
    }
    if subject is not None:
        observation["subject"] = subject
    entries = [{"resource": observation}, *(extra or [])]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def test_fhir_bundle_about_another_patient_is_refused(session, now):
    people = make_people(session)
    data = _bundle({"reference": f"Patient/{people.bob.fhir_id}"})
    with pytest.raises(ImportRefused, match="about another person, not Alice Reading"):
        _import(people, session, now, file_import.FHIR, data, "bob.json")
    assert _stored(session) == 0


def test_fhir_bundle_naming_a_stranger_in_the_bundle_is_refused(session, now):
    people = make_people(session)
    stranger = {
        "fullUrl": "urn:uuid:1",
        "resource": {"resourceType": "Patient", "id": "x", "name": [{"family": "Someone"}]},
    }
    data = _bundle({"reference": "urn:uuid:1"}, [stranger])
    with pytest.raises(ImportRefused, match="about another person"):
        _import(people, session, now, file_import.FHIR, data, "x.json")


@pytest.mark.parametrize("how", ["none", "fhir id", "mrn", "bundled patient"])
def test_fhir_bundle_about_the_patient_is_imported(session, now, how):
    people = make_people(session)
    alice = people.alice
    me = {
        "fullUrl": "urn:uuid:me",
        "resource": {
            "resourceType": "Patient",
            "id": "app-42",
            "name": [{"family": alice.family_name}],
            "birthDate": alice.birth_date.isoformat(),
        },
    }
    subject, extra = {
        "none": (None, None),
        "fhir id": ({"reference": f"Patient/{alice.fhir_id}"}, None),
        "mrn": ({"identifier": {"value": alice.mrn}}, None),
        "bundled patient": ({"reference": "urn:uuid:me"}, [me]),
    }[how]
    report = _import(people, session, now, file_import.FHIR, _bundle(subject, extra), "me.json")
    assert report.added == 1
