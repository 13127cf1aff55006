"""Sync throughput from a file-based Bulk Data source, next to the parser's own ceiling.

    python -m bench.sync --patients 1000                    # SQLite in var/bench/sync-1000.db
    python -m bench.sync --patients 1000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_sync

Steps, all on the same resources (the demo generator's clinic written as a ``$export``
directory: one NDJSON file per type, every resource with meta.versionId and meta.lastUpdated):
1. orjson parsing alone, and bare fhir.resources R4B validation (``parse_resource``): the
   ceiling of the chosen parser on one core;
2. a full ``run_sync`` from ``NdjsonSource`` into an empty database on one core, then again
   with validation in worker processes (``parallel_validation``), into another empty database;
3. an incremental sync after 1% of the resources changed (new version, newer lastUpdated);
4. a re-sync with nothing changed.
"""

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from resource import RUSAGE_CHILDREN, getrusage

import orjson
from sqlmodel import Session

from bench.common import BENCH_DIR, backend, default_sqlite_url, fresh_database, machine_note
from ehr_sync.importer import parallel_validation
from ehr_sync.ndjson_source import NdjsonSource
from ehr_sync.parsing import parse_resource
from ehr_sync.sync import run_sync
from portal.demo.generator import patient_resources, practitioner_resources

SEED = 11


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: var/bench/sync-N.db")
    parser.add_argument("--workers", type=int, default=1, help="extra validation processes")
    parser.add_argument("--changed", type=float, default=0.01, help="share changed (0.01 = 1%%)")
    parser.add_argument("--skip-serial", action="store_true", help="only the parallel full sync")
    args = parser.parse_args(argv)
    url = args.database_url or default_sqlite_url(f"sync-{args.patients}")
    print(f"Sync benchmark: {args.patients:,} patients into {backend(url)} ({machine_note()})")
    figures = run(
        url, args.patients, workers=args.workers, changed=args.changed, serial=not args.skip_serial
    )
    out = BENCH_DIR / f"sync-{backend(url)}-{args.patients}.json"
    out.write_text(json.dumps(figures, indent=1))
    print(f"(raw figures in {out})")


def run(url: str, patients: int, *, workers: int, changed: float, serial: bool = True) -> dict:
    directory = BENCH_DIR / f"export-{patients}"
    started = time.perf_counter()
    total = write_export(directory, patients)
    print(f"  export written: {total:,} resources in {time.perf_counter() - started:.1f} s")
    figures: dict = {"patients": patients, "resources": total, "backend": backend(url)}

    resources = []
    started = time.perf_counter()
    for path in sorted(directory.glob("*.ndjson")):
        with path.open("rb") as handle:
            resources.extend(orjson.loads(line) for line in handle)
    figures["orjson_per_s"] = _rate(total, started, "orjson parsing alone")
    started, cpu = time.perf_counter(), time.process_time()
    for resource in resources:
        parse_resource(resource)
    figures["r4b_validation_cpu_s"] = time.process_time() - cpu
    figures["r4b_validation_per_s"] = _rate(total, started, "bare R4B validation (1 core)")
    del resources

    full_url = url
    if serial:
        engine = fresh_database(url)
        figures["full_sync_1_core"] = _sync(engine, directory, "full sync, 1 core")
        engine.dispose()
    engine = fresh_database(url)
    children = getrusage(RUSAGE_CHILDREN)
    with parallel_validation(workers):
        parallel = _sync(engine, directory, f"full sync, this process + {workers} validating")
    after = getrusage(RUSAGE_CHILDREN)
    parallel["worker_cpu_s"] = (after.ru_utime + after.ru_stime) - (
        children.ru_utime + children.ru_stime
    )
    figures[f"full_sync_{workers}_workers"] = parallel
    full = figures.get("full_sync_1_core") or figures[f"full_sync_{workers}_workers"]

    count = change_some(directory, changed)
    print(f"  changed {count:,} resources ({changed:.0%})")
    figures["incremental"] = _sync(engine, directory, "incremental sync (1 core)")
    figures["resync"] = _sync(engine, directory, "re-sync, nothing changed (1 core)")
    engine.dispose()
    figures["full_vs_r4b"] = full["per_s"] / figures["r4b_validation_per_s"]
    # CPU seconds are steadier than wall time on a shared machine (this process only: the
    # PostgreSQL server's work is not in it; SQLite's is).
    figures["full_vs_r4b_cpu"] = figures["r4b_validation_cpu_s"] / full["cpu_s"]
    figures["incremental_vs_full"] = figures["incremental"]["seconds"] / full["seconds"]
    figures["resync_vs_full"] = figures["resync"]["seconds"] / full["seconds"]
    print(
        f"  full sync at {figures['full_vs_r4b']:.0%} of the bare R4B rate "
        f"({figures['full_vs_r4b_cpu']:.0%} in CPU time); incremental "
        f"{figures['incremental_vs_full']:.1%} and re-sync {figures['resync_vs_full']:.1%} "
        f"of the full-sync time (database {full_url.split('@')[-1]})"
    )
    return figures


def _rate(count: int, started: float, label: str) -> float:
    seconds = time.perf_counter() - started
    print(f"  {label}: {count / seconds:,.0f} resources/s ({seconds:.1f} s)", flush=True)
    return count / seconds


def _sync(engine, directory: Path, label: str) -> dict:
    with Session(engine, expire_on_commit=False) as session:
        started, cpu = time.perf_counter(), time.process_time()
        result = run_sync(NdjsonSource(directory), session=session, sweep_deletions=True)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    fetched = result.total("fetched")
    written = result.total("created") + result.total("updated")
    print(
        f"  {label}: {seconds:.1f} s, {fetched:,} read, {written:,} written, "
        f"{result.total('skipped'):,} skipped, {fetched / seconds:,.0f} resources/s, "
        f"CPU {cpu:.1f} s" + (f" [{result.status}: {result.errors[:1]}]" if result.errors else ""),
        flush=True,
    )
    return {
        "seconds": seconds,
        "fetched": fetched,
        "written": written,
        "per_s": fetched / seconds,
        "cpu_s": cpu,
        "status": result.status,
    }


# --- the export -----------------------------------------------------------------------------


def write_export(directory: Path, patients: int) -> int:
    """The clinic as $export NDJSON, every type's lines oldest lastUpdated first."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.ndjson"):
        old.unlink()
    now = datetime.now(UTC)
    handles: dict[str, object] = {}
    # Spread the update times over the last 30 days in generation order.
    first = now - timedelta(days=30)
    step = timedelta(days=30) / max(1, patients * 260)
    total = 0
    try:
        for resource in _clinic(patients, now):
            stamp = first + step * total
            resource["meta"] = {"versionId": "1", "lastUpdated": _instant(stamp)}
            rtype = resource["resourceType"]
            if rtype not in handles:
                handles[rtype] = (directory / f"{rtype}.ndjson").open("wb")
            handles[rtype].write(orjson.dumps(resource) + b"\n")
            total += 1
    finally:
        for handle in handles.values():
            handle.close()
    return total


def _clinic(patients: int, now: datetime):
    yield from practitioner_resources()
    for number in range(1, patients + 1):
        yield from patient_resources(number, seed=SEED, now=now)


def change_some(directory: Path, share: float) -> int:
    """Give ``share`` of the resources a new version, stamped in the last ten minutes, moved to
    the end of their file (where a newer export, or a server sorted by time, has them)."""
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    changed_total = 0
    for path in sorted(directory.glob("*.ndjson")):
        kept, changed = [], []
        with path.open("rb") as handle:
            for line in handle:
                (changed if rng.random() < share else kept).append(line)
        for index, line in enumerate(changed):
            resource = orjson.loads(line)
            stamp = now - timedelta(minutes=10) + timedelta(seconds=index * 600 / len(changed))
            resource["meta"] = {"versionId": "2", "lastUpdated": _instant(stamp)}
            changed[index] = orjson.dumps(resource) + b"\n"
        path.write_bytes(b"".join(kept + changed))
        changed_total += len(changed)
    return changed_total


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


if __name__ == "__main__":
    main()
