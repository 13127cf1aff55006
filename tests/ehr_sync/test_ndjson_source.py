"""Sync from a Bulk Data export on disk (NDJSON per type), serially and with worker processes."""

import time
from collections import Counter
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from bench.common import StatementCounter
from db.models import Observation, QuarantinedResource
from ehr_sync.bulk import refresh_planner_stats
from ehr_sync.importer import import_resources, parallel_validation
from ehr_sync.ndjson_source import NdjsonSource
from ehr_sync.sync import run_sync
from portal.demo.generator import patient_resources, practitioner_resources
from tests.sync.helpers import stored_counts


def _stamp(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def write_export(directory, resources, *, now) -> None:
    """One NDJSON file per type, every resource at version 1, stamped a day before ``now``."""
    by_type: dict[str, list[bytes]] = {}
    for resource in resources:
        resource = {
            **resource,
            "meta": {"versionId": "1", "lastUpdated": _stamp(now - timedelta(1))},
        }
        by_type.setdefault(resource["resourceType"], []).append(orjson.dumps(resource))
    for rtype, lines in by_type.items():
        (directory / f"{rtype}.ndjson").write_bytes(b"\n".join(lines) + b"\n")


def demo_resources(now, patients=2) -> list[dict]:
    resources = practitioner_resources()
    for number in range(1, patients + 1):
        resources += patient_resources(number, seed=3, now=now)
    return resources


@pytest.fixture
def export(tmp_path, now):
    resources = demo_resources(now)
    write_export(tmp_path, resources, now=now)
    return tmp_path, resources


def test_full_sync_from_export_files_stores_every_resource(export, session, now):
    directory, resources = export
    result = run_sync(NdjsonSource(directory, page_size=50), session=session, clock=lambda: now)
    assert result.status == "succeeded", result.errors
    expected = Counter(r["resourceType"] for r in resources)
    stored = {rtype: n for rtype, n in stored_counts(session).items() if n}
    assert stored == dict(expected)
    assert result.total("created") == len(resources)


def test_resync_skips_unchanged_and_incremental_reads_only_the_changed(export, session, now):
    directory, resources = export
    run_sync(NdjsonSource(directory), session=session, clock=lambda: now)

    again = run_sync(NdjsonSource(directory), session=session, clock=lambda: now)
    # Everything shares one time here, so the overlap window re-reads it; versions say skip.
    assert again.total("skipped") == again.total("fetched") == len(resources)
    assert again.total("created") + again.total("updated") == 0

    # The EHR changes one result: a new version, stamped now, appended as a new export would.
    path = directory / "Observation.ndjson"
    lines = path.read_bytes().splitlines()
    index = next(i for i, line in enumerate(lines) if "valueQuantity" in orjson.loads(line))
    changed = orjson.loads(lines.pop(index))
    changed["meta"] = {"versionId": "2", "lastUpdated": _stamp(now)}
    changed["valueQuantity"]["value"] = 123.4
    path.write_bytes(b"\n".join([*lines, orjson.dumps(changed)]) + b"\n")

    later = now + timedelta(minutes=5)
    incremental = run_sync(NdjsonSource(directory), session=session, clock=lambda: later)
    assert incremental.stats["Observation"].updated == 1
    assert incremental.total("created") + incremental.total("updated") == 1
    value = session.exec(select(Observation.value).where(Observation.fhir_id == changed["id"]))
    assert value.one() == 123.4
    # The Observation checkpoint is at the change now: a further run parses only that line.
    result = run_sync(NdjsonSource(directory), session=session, clock=lambda: later)
    observations = result.stats["Observation"]
    assert (observations.fetched, observations.skipped, observations.updated) == (1, 1, 0)


def test_lines_out_of_order_are_served_oldest_first(tmp_path, now):
    stamps = [now - timedelta(hours=h) for h in (1, 5, 3)]
    lines = [
        orjson.dumps(
            {"resourceType": "Patient", "id": f"p{i}", "meta": {"lastUpdated": _stamp(stamp)}}
        )
        for i, stamp in enumerate(stamps)
    ]
    (tmp_path / "Patient.000.ndjson").write_bytes(lines[0] + b"\n" + lines[1] + b"\n")
    (tmp_path / "Patient.001.ndjson").write_bytes(lines[2] + b"\n")
    source = NdjsonSource(tmp_path, page_size=2)

    pages = list(source.search_pages("Patient"))
    assert [[e["resource"]["id"] for e in page["entry"]] for page in pages] == [
        ["p1", "p2"],
        ["p0"],
    ]
    since = {"_lastUpdated": "gt" + _stamp(now - timedelta(hours=4))}
    assert [
        e["resource"]["id"] for p in source.search_pages("Patient", since) for e in p["entry"]
    ] == [
        "p2",
        "p0",
    ]
    assert source.count("Patient") == 3


def test_id_search_and_an_unreadable_line(tmp_path, now, session):
    good = {"resourceType": "Patient", "id": "a", "meta": {"lastUpdated": _stamp(now)}}
    (tmp_path / "Patient.ndjson").write_bytes(orjson.dumps(good) + b"\n{not json\n")
    source = NdjsonSource(tmp_path)
    found = list(source.search_pages("Patient", {"_id": "a,zzz"}))
    assert [e["resource"]["id"] for p in found for e in p["entry"]] == ["a"]

    result = run_sync(source, session=session, clock=lambda: now, types=["Patient"])
    assert result.stats["Patient"].created == 1
    quarantined = session.exec(select(QuarantinedResource.raw_json)).all()
    assert len(quarantined) == 1 and "{not json" in quarantined[0]


def test_parallel_validation_stores_the_same_as_serial(export, session, now):
    directory, resources = export
    broken = {"resourceType": "Observation", "id": "broken", "status": "no-such-status"}
    with (directory / "Observation.ndjson").open("ab") as handle:
        handle.write(orjson.dumps({**broken, "meta": {"lastUpdated": _stamp(now)}}) + b"\n")

    with parallel_validation(workers=1):
        result = run_sync(NdjsonSource(directory, page_size=64), session=session, clock=lambda: now)

    assert result.stats["Observation"].quarantined == 1
    expected = Counter(r["resourceType"] for r in resources)
    stored = {rtype: n for rtype, n in stored_counts(session).items() if n}
    assert stored == dict(expected)
    rows = session.exec(select(func.count()).select_from(Observation)).one()
    assert rows >= expected["Observation"]


def test_planner_stats_are_refreshed_when_a_bulk_import_grows_a_table(engine, now):
    """A first sync fills empty tables faster than autovacuum analyzes them (PostgreSQL); SQLite
    plans without such statistics, so there it must not even ask."""
    # One connection throughout: PostgreSQL counts inserted rows per backend.
    with engine.connect() as connection, Session(bind=connection) as session:
        import_resources(demo_resources(now, patients=12), session=session, now=now)
        if engine.dialect.name == "sqlite":
            with StatementCounter(engine) as counter:
                refresh_planner_stats(session, ["observation"])
            assert counter.count == 0
            return
        seen = -1.0
        # Row counts reach the statistics views when the backend reports them (at idle, at
        # most every second): ask for that, then give the report a moment if it is late.
        for _ in range(20):
            session.exec(text("SELECT pg_stat_force_next_flush()"))
            session.commit()
            session.exec(text("SELECT pg_stat_clear_snapshot()"))
            refresh_planner_stats(session, ["observation"])
            query = text("SELECT reltuples FROM pg_class WHERE oid = 'observation'::regclass")
            seen = session.exec(query).one()[0]
            session.commit()
            if seen > 2000:
                break
            time.sleep(0.25)
        assert seen > 2000
