"""Apple Health import of a large generated export.xml: time and peak memory (RSS).

    python -m bench.apple_health_import --megabytes 200
    python -m bench.apple_health_import --megabytes 200 --parse-only

The export is written in chunks to var/bench/ (never held in memory) with heart rate every
minute, step counts, weights, SpO2 and blood-pressure correlations, as the Health app writes
them. The import then runs the real path, ``AppleHealthFile`` streaming into ``import_readings``
(batches, duplicate checks, alert rules), against an empty SQLite database (or --database-url).
A second run over the same file shows the idempotent path (everything already there).
"""

import argparse
import resource
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from bench.common import BENCH_DIR, default_sqlite_url, fresh_database
from db.models import Patient, Role, User
from portal.services.readings import entry
from portal.services.readings.apple_health import AppleHealthFile

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-11-24 09:00:00 -0500"/>
 <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S +0000")


def _record(kind: str, value: str, unit: str, when: datetime) -> str:
    s, e = _stamp(when), _stamp(when + timedelta(minutes=1))
    return (
        f' <Record type="HKQuantityTypeIdentifier{kind}" sourceName="Apple Watch" '
        f'sourceVersion="10.1" device="&lt;&lt;HKDevice: 0x2834&gt;, name:Apple Watch&gt;" '
        f'unit="{unit}" creationDate="{e}" startDate="{s}" endDate="{e}" value="{value}">\n'
        '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
    )


def write_export(path: Path, megabytes: int, end: datetime) -> int:
    """Write an export of about ``megabytes`` MB; returns the number of records."""
    target = megabytes * 1024 * 1024
    written = 0
    records = 0
    minute = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        while written < target:
            chunk = []
            for _ in range(1000):
                when = end - timedelta(minutes=minute)
                chunk.append(_record("HeartRate", str(60 + minute % 37), "count/min", when))
                if minute % 10 == 0:
                    chunk.append(_record("StepCount", str(200 + minute % 300), "count", when))
                if minute % 1440 == 0:
                    chunk.append(_record("BodyMass", f"{160 + minute % 7}", "lb", when))
                    chunk.append(_record("OxygenSaturation", "0.97", "%", when))
                    s = _stamp(when)
                    chunk.append(
                        ' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" '
                        f'sourceName="Cuff" creationDate="{s}" startDate="{s}" endDate="{s}">\n'
                        + _record("BloodPressureSystolic", "124", "mmHg", when)
                        + _record("BloodPressureDiastolic", "79", "mmHg", when)
                        + " </Correlation>\n"
                    )
                    records += 4
                records += 1 + (minute % 10 == 0)
                minute += 1
            text = "".join(chunk)
            out.write(text)
            written += len(text)
        out.write("</HealthData>\n")
    return records


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--database-url", default=default_sqlite_url("apple-health"))
    parser.add_argument("--parse-only", action="store_true")
    args = parser.parse_args()
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"export-{args.megabytes}mb.xml"
    if not path.exists():
        started = time.perf_counter()
        records = write_export(path, args.megabytes, now - timedelta(minutes=5))
        print(
            f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB, {records} records) "
            f"in {time.perf_counter() - started:.0f} s"
        )
    print(f"peak RSS before parsing: {peak_rss_mb():.0f} MB")
    if args.parse_only:
        started = time.perf_counter()
        with path.open("rb") as source:
            count = sum(1 for _ in AppleHealthFile(source).readings())
        print(
            f"parsed {count} readings in {time.perf_counter() - started:.0f} s; "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )
        return
    engine = fresh_database(args.database_url)
    with Session(engine, expire_on_commit=False) as session:
        patient = Patient(fhir_id="bench-1", given_name="Bench", family_name="Patient")
        session.add(patient)
        session.flush()
        # "!" is no bcrypt hash: the bench account can never sign in.
        user = User(username="bench", password_hash="!", role=Role.PATIENT, patient_id=patient.id)  # noqa: S106
        session.add(user)
        session.commit()
        for attempt in ("first import", "same file again"):
            started = time.perf_counter()
            with path.open("rb") as source:
                parsed = AppleHealthFile(source)
                report = entry.import_readings(
                    user,
                    patient.id,
                    parsed.readings(),
                    session=session,
                    now=now,
                    source="apple_health",
                    label=path.name,
                    skipped=parsed.skipped,
                )
            print(
                f"{attempt}: {report.summary} in {time.perf_counter() - started:.0f} s; "
                f"peak RSS {peak_rss_mb():.0f} MB"
            )


if __name__ == "__main__":
    main()
