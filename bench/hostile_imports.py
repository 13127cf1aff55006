"""Worst-case readings files against the import limits: how long each takes to be stored or
refused (issue 15). Runs the real path, ``file_import.import_file``, on an empty SQLite database
(or --database-url), with the limits in Settings.

    python -m bench.hostile_imports

Files: a 30 MB CSV of duplicate rows (over the size limit), CSVs of the most rows allowed
(duplicates, then distinct readings), a zip bomb (a small export.zip holding a 33 MB
export.xml, as probed), a zip holding more than the decompressed limit, and a FHIR bundle of
the largest entry count allowed.
"""

import argparse
import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bench.common import default_sqlite_url, fresh_database
from db.models import Patient, Role, User
from portal.config import get_settings
from portal.services.readings import file_import
from portal.services.readings.csv_import import ColumnMapping
from portal.services.readings.entry import ImportRefused

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
MAPPING = ColumnMapping(date="date", value="value", measure="weight", unit="lb")


def _csv(megabytes: float) -> bytes:
    line = b"2026-11-20T08:00:00Z,150\n"
    return b"date,value\n" + line * int(megabytes * 1024 * 1024 / len(line))


def _csv_rows(rows: int, *, distinct: bool) -> bytes:
    start = NOW - timedelta(days=365)
    lines = (
        f"{(start + timedelta(minutes=n if distinct else 0)).isoformat()},{150 + n % 50}\n"
        for n in range(rows)
    )
    return ("date,value\n" + "".join(lines)).encode()


def _apple_zip(xml_megabytes: float) -> bytes:
    record = (
        b'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" unit="count/min" '
        b'startDate="2026-11-20 08:00:00 +0000" value="70"/>\n'
    )
    body = record * int(xml_megabytes * 1024 * 1024 / len(record))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "apple_health_export/export.xml", b"<HealthData>" + body + b"</HealthData>"
        )
    return buffer.getvalue()


def _fhir(entries: int) -> bytes:
    start = NOW - timedelta(days=60)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "effectiveDateTime": (start + timedelta(minutes=n)).isoformat(),
                    "valueQuantity": {"value": 60 + n % 40, "unit": "/min"},
                }
            }
            for n in range(entries)
        ],
    }
    return json.dumps(bundle).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=default_sqlite_url("hostile-imports"))
    args = parser.parse_args()
    settings = get_settings()
    cases = [
        ("30 MB CSV of duplicate rows", file_import.CSV, "dupes.csv", lambda: _csv(30)),
        (
            f"CSV of {settings.csv_import_max_rows:,} duplicate rows (most rows allowed)",
            file_import.CSV,
            "dupes.csv",
            lambda: _csv_rows(settings.csv_import_max_rows, distinct=False),
        ),
        (
            f"CSV of {settings.csv_import_max_rows:,} distinct rows (most rows allowed)",
            file_import.CSV,
            "rows.csv",
            lambda: _csv_rows(settings.csv_import_max_rows, distinct=True),
        ),
        (
            "zip bomb: small export.zip holding a 33 MB export.xml",
            file_import.APPLE_HEALTH,
            "export.zip",
            lambda: _apple_zip(33),
        ),
        (
            f"zip holding {settings.apple_health_import_max_xml_bytes / 1024**2 + 100:.0f} MB",
            file_import.APPLE_HEALTH,
            "export.zip",
            lambda: _apple_zip(settings.apple_health_import_max_xml_bytes / 1024**2 + 100),
        ),
        (
            f"FHIR bundle of {settings.fhir_import_max_entries:,} entries (most allowed)",
            file_import.FHIR,
            "bundle.json",
            lambda: _fhir(settings.fhir_import_max_entries),
        ),
    ]
    engine = fresh_database(args.database_url)
    with Session(engine, expire_on_commit=False) as session:
        patient = Patient(fhir_id="bench-1", given_name="Bench", family_name="Patient")
        session.add(patient)
        session.flush()
        user = User(username="bench", password_hash="!", role=Role.PATIENT, patient_id=patient.id)  # noqa: S106
        session.add(user)
        session.commit()
        for label, kind, name, make in cases:
            data = make()
            started = time.perf_counter()
            try:
                report = file_import.import_file(
                    user,
                    patient.id,
                    kind=kind,
                    upload=io.BytesIO(data),
                    filename=name,
                    mapping=MAPPING,
                    session=session,
                    now=NOW,
                )
                outcome = report.summary
            except ImportRefused as refused:
                outcome = refused.user_message
            elapsed = time.perf_counter() - started
            print(f"{label} ({len(data) / 1024**2:.1f} MB upload): {elapsed:.1f} s: {outcome}")


if __name__ == "__main__":
    main()
