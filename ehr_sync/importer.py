"""Import FHIR R4 resources into the portal's tables: validate, map, upsert, quarantine.

Resources go in batches of ``batch_size``. In each batch, Practitioners and Patients are written
first, then one query per referenced type turns references into row ids, then each table gets one
bulk INSERT ... ON CONFLICT DO UPDATE keyed by (source, fhir_id[, code]), so importing the same
data twice updates rows instead of adding them. Each batch is committed on its own, which keeps
memory bounded on long streams; note that it also commits anything the caller left pending in
``session``. A resource that cannot be imported is stored in QuarantinedResource with its reason,
and the rest goes on.
"""

import json
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from fhir.resources.R4B.resource import Resource
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError, StatementError
from sqlmodel import Session, SQLModel

from ehr_sync import bulk
from ehr_sync.fhir_values import parse_reference
from ehr_sync.mappers import (
    MAPPINGS,
    MappingError,
    Ref,
    map_resource,
    report_result_references,
)
from ehr_sync.parsing import InvalidResource, parse_resource
from ehr_sync.report import ImportReport
from ehr_sync.tables import Row, table_of

BATCH_SIZE = 1000
# With a validation pool, the share of each batch this process validates itself: small, as it
# also reads, resolves and writes everything (measured in docs/PERFORMANCE.md).
_OWN_SHARE = 0.15
_WRITE_RANK = {resource_type: rank for rank, resource_type in enumerate(MAPPINGS)}
_REFERENCE_COLUMNS = (
    "patient_id",
    "practitioner_id",
    "prescriber_id",
    "primary_practitioner_id",
    "requester_id",
    "performer_id",
    "author_id",
    "organization_id",
    "location_id",
)

T = TypeVar("T")


def _write_rank(resource: object) -> int:
    """Where a resource goes in the write order (MAPPINGS'); anything else goes last."""
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    if isinstance(resource_type, str):
        return _WRITE_RANK.get(resource_type, len(_WRITE_RANK))
    return len(_WRITE_RANK)


def import_resources(
    resources: Iterable[Any],
    *,
    session: Session,
    source: str = "ehr",
    now: datetime,
    batch_size: int = BATCH_SIZE,
    pool: "ValidationPool | None" = None,
) -> ImportReport:
    """Upsert FHIR R4 resources (JSON dicts) from ``source``, committing per batch.

    A resource may refer to a Patient that comes later in the same call: it waits until the end.
    With a ``pool`` (or inside ``parallel_validation``), validation runs in worker processes.
    """
    pool = pool or _current_pool.get()
    return _Importer(session, source, now, aliases={}, batch_size=batch_size, pool=pool).run(
        resources
    )


def import_bundle(
    bundle: dict[str, Any],
    *,
    session: Session,
    source: str = "ehr",
    now: datetime,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import the resources of a Bundle's entries; "urn:uuid:" references resolve by fullUrl."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ValueError("not a FHIR Bundle")
    entries = [e if isinstance(e, dict) else {} for e in bundle.get("entry") or []]
    aliases = {}
    for entry in entries:
        resource, full_url = entry.get("resource"), entry.get("fullUrl")
        # Transaction bundles (Synthea's, for one) refer to each other by these temporary ids.
        if isinstance(full_url, str) and full_url.startswith("urn:") and isinstance(resource, dict):
            aliases[full_url] = f"{resource.get('resourceType')}/{resource.get('id')}"
    # Targets first (a Synthea bundle lists a visit's Organization after the visit), so optional
    # links resolve in one pass; the sort is stable, so the bundle's own order holds otherwise.
    resources = sorted((entry.get("resource") for entry in entries), key=_write_rank)
    importer = _Importer(
        session, source, now, aliases=aliases, batch_size=batch_size, pool=_current_pool.get()
    )
    return importer.run(resources)


@dataclass(frozen=True)
class ValidationPool:
    """Worker processes that validate and map batches while the caller's process writes."""

    executor: ProcessPoolExecutor
    workers: int


_current_pool: ContextVar[ValidationPool | None] = ContextVar("validation_pool", default=None)


@contextmanager
def parallel_validation(workers: int = 1) -> Iterator[ValidationPool]:
    """Within the block, every import (``run_sync``'s too) validates in ``workers`` extra
    processes besides this one (one per spare core: 1 on a two-core machine).

    R4B validation is pure CPU and most of an import's time, so a second core nearly doubles
    the rate; the database writes stay in this process, in the same order as without a pool.
    """
    with ProcessPoolExecutor(max_workers=workers) as executor:
        pool = ValidationPool(executor, workers)
        token = _current_pool.set(pool)
        try:
            yield pool
        finally:
            _current_pool.reset(token)


@dataclass
class _Incoming:
    """One valid, mapped resource on its way to the database."""

    raw: dict[str, Any]
    resource_type: str
    fhir_id: str
    rows: list[Row]  # with Ref placeholders still in them
    result_references: list[str] = field(default_factory=list)


@dataclass
class _Outcome:
    report: ImportReport = field(default_factory=ImportReport)
    deferred: list[_Incoming] = field(default_factory=list)


class _Unresolved(Exception):
    def __init__(self, reason: str, *, may_arrive_later: bool) -> None:
        super().__init__(reason)
        self.may_arrive_later = may_arrive_later


class _Importer:
    """One import call: its source, clock, bundle aliases and batch size."""

    def __init__(
        self,
        session: Session,
        source: str,
        now: datetime,
        *,
        aliases: dict[str, Any],
        batch_size: int,
        pool: ValidationPool | None = None,
    ) -> None:
        self.session = session
        self.source = source
        self.now = now
        self.aliases = aliases
        self.batch_size = batch_size
        self.pool = pool

    def run(self, resources: Iterable[Any]) -> ImportReport:
        report = ImportReport()
        deferred: list[_Incoming] = []
        for incoming, quarantined in self._prepared(resources):
            deferred += self._store(incoming, quarantined, report, final=False)
        # Everything in this call has been seen now, so a patient still missing is missing.
        deferred.sort(key=lambda item: _WRITE_RANK[item.resource_type])
        for chunk in _chunks(deferred, self.batch_size):
            self._store(chunk, [], report, final=True)
        return report

    # --- validate and map (no database) ----------------------------------------------------

    def _prepared(self, resources: Iterable[Any]) -> Iterator[tuple[list[_Incoming], list[Row]]]:
        """Each batch validated and mapped: here, or by the pool one batch ahead of the writes."""
        batches = _chunks(resources, self.batch_size)
        if self.pool is None:
            for chunk in batches:
                yield _prepare_chunk(chunk, self.source)
            return
        # Each batch is split between this process, which validates a small share itself (it
        # also reads, resolves and writes), and the workers; the next batch is under way before
        # this one is written.
        waiting: deque[
            tuple[list[tuple[list[Any], Future[_RemoteAnswer]]], tuple[list[_Incoming], list[Row]]]
        ]
        waiting = deque()
        for chunk in batches:
            own = max(1, int(len(chunk) * _OWN_SHARE))
            part = -(-(len(chunk) - own) // self.pool.workers)
            # A batch this process takes whole (one resource) leaves nothing for the workers.
            parts = [chunk[i : i + part] for i in range(own, len(chunk), part)] if part else []
            futures = [
                (p, self.pool.executor.submit(_prepare_remote, p, self.source)) for p in parts
            ]
            waiting.append((futures, _prepare_chunk(chunk[:own], self.source)))
            if len(waiting) > 1:
                yield _gathered(*waiting.popleft())
        while waiting:
            yield _gathered(*waiting.popleft())

    # --- write ----------------------------------------------------------------------------

    def _store(
        self,
        incoming: list[_Incoming],
        quarantined: list[Row],
        report: ImportReport,
        *,
        final: bool,
    ) -> list[_Incoming]:
        """Write and commit one batch; if the database refuses it, retry resource by resource."""
        try:
            outcome = self._write(incoming, quarantined, final=final)
            self.session.commit()
        except SQLAlchemyError as error:
            self.session.rollback()
            if not _is_data_error(error):
                raise
            return self._store_one_by_one(incoming, quarantined, report, final=final)
        report.merge(outcome.report)
        bulk.refresh_planner_stats(
            self.session,
            {table_of(MAPPINGS[item.resource_type].model).name for item in incoming},
        )
        return outcome.deferred

    def _store_one_by_one(
        self,
        incoming: list[_Incoming],
        quarantined: list[Row],
        report: ImportReport,
        *,
        final: bool,
    ) -> list[_Incoming]:
        deferred: list[_Incoming] = []
        outcomes = [self._write_committed([], quarantined, final=final)]
        for item in sorted(incoming, key=lambda i: _WRITE_RANK[i.resource_type]):
            try:
                outcomes.append(self._write_committed([item], [], final=final))
            except SQLAlchemyError as error:
                self.session.rollback()
                if not _is_data_error(error):
                    raise
                reason = f"The database refused it: {getattr(error, 'orig', None) or error}"
                row = self._quarantine_row(item.raw, reason)
                outcomes.append(self._write_committed([], [row], final=final))
        for outcome in outcomes:
            report.merge(outcome.report)
            deferred += outcome.deferred
        return deferred

    def _write_committed(
        self, incoming: list[_Incoming], quarantined: list[Row], *, final: bool
    ) -> _Outcome:
        outcome = self._write(incoming, quarantined, final=final)
        self.session.commit()
        return outcome

    def _write(self, incoming: list[_Incoming], quarantined: list[Row], *, final: bool) -> _Outcome:
        outcome = _Outcome()
        quarantined = list(quarantined)
        by_type: dict[str, list[_Incoming]] = defaultdict(list)
        for item in incoming:
            by_type[item.resource_type].append(item)
        wanted = self._wanted_references(incoming)
        ids: dict[tuple[str, str], int] = {}
        # MAPPINGS is in dependency order, so a reference's target is written before it is used.
        for resource_type, mapping in MAPPINGS.items():
            ready: list[tuple[_Incoming, list[Row]]] = []
            for item in by_type.get(resource_type, []):
                try:
                    ready.append((item, self._resolve(item, ids)))
                except _Unresolved as missing:
                    if missing.may_arrive_later and not final:
                        outcome.deferred.append(item)
                    else:
                        quarantined.append(self._quarantine_row(item.raw, str(missing)))
            self._upsert(resource_type, mapping.model, ready, outcome.report)
            if wanted.get(resource_type):
                found = bulk.row_ids(
                    self.session, mapping.model, self.source, wanted[resource_type]
                )
                ids.update(((resource_type, fhir_id), row_id) for fhir_id, row_id in found.items())
        bulk.insert_quarantined(self.session, quarantined, received_at=self.now)
        for row in quarantined:
            outcome.report.add(row["resource_type"] or "unknown", quarantined=1)
        return outcome

    def _upsert(
        self,
        resource_type: str,
        model: type[SQLModel],
        ready: list[tuple[_Incoming, list[Row]]],
        report: ImportReport,
    ) -> None:
        if not ready:
            return
        # The same resource twice in one batch: the later wins (one statement cannot update a
        # row twice on PostgreSQL).
        latest = {item.fhir_id: (item, rows) for item, rows in ready}
        existing = bulk.existing_fhir_ids(self.session, model, self.source, list(latest))
        bulk.upsert_rows(self.session, model, [row for _, rows in latest.values() for row in rows])
        created = sum(1 for fhir_id in latest if fhir_id not in existing)
        report.add(resource_type, created=created, updated=len(ready) - created)
        # A corrected version closes the entry its broken one left in quarantine.
        bulk.resolve_quarantined(self.session, self.source, resource_type, latest, now=self.now)
        if resource_type == "DiagnosticReport":
            links = [
                (target[1], item.fhir_id)
                for item, _ in latest.values()
                for reference in item.result_references
                if (target := self._parse(reference)) and target[0] == "Observation"
            ]
            bulk.link_report_results(self.session, self.source, links)

    # --- references -----------------------------------------------------------------------

    def _parse(self, reference: str) -> tuple[str, str] | None:
        return parse_reference(self.aliases.get(reference, reference))

    def _wanted_references(self, incoming: list[_Incoming]) -> dict[str, set[str]]:
        """FHIR ids each referenced type must be looked up for, so one query per type will do."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for item in incoming:
            for row in item.rows:
                for column in _REFERENCE_COLUMNS:
                    ref = row.get(column)
                    if isinstance(ref, Ref) and (target := self._parse(ref.reference)):
                        wanted[target[0]].add(target[1])
        return wanted

    def _resolve(self, item: _Incoming, ids: dict[tuple[str, str], int]) -> list[Row]:
        """Copies of the rows with source set and every Ref replaced by a row id (or None)."""
        resolved = []
        for row in item.rows:
            row = {**row, "source": self.source}
            for column in _REFERENCE_COLUMNS:
                if isinstance(ref := row.get(column), Ref):
                    row[column] = self._row_id(ref, ids)
            resolved.append(row)
        return resolved

    def _row_id(self, ref: Ref, ids: dict[tuple[str, str], int]) -> int | None:
        target = self._parse(ref.reference)
        if target is None or target[0] != ref.target:
            if not ref.required:
                return None
            raise _Unresolved(
                f"Reference {ref.reference!r} does not name a {ref.target} this importer can find",
                may_arrive_later=False,
            )
        row_id = ids.get(target)
        if row_id is None and ref.required:
            raise _Unresolved(
                f"Refers to {target[0]}/{target[1]}, which has not been imported "
                f"from source {self.source!r}",
                may_arrive_later=True,
            )
        # An optional link (a patient's GP, a prescriber) not yet imported is left empty.
        return row_id

    def _quarantine_row(self, raw: Any, reason: str) -> Row:
        return _quarantine_row(raw, reason, self.source)


# --- validate and map: plain functions, so worker processes can run them --------------------


def _prepare_chunk(chunk: list[Any], source: str) -> tuple[list[_Incoming], list[Row]]:
    incoming: list[_Incoming] = []
    quarantined: list[Row] = []
    for raw in chunk:
        try:
            incoming.append(_map_raw(raw))
        except (InvalidResource, MappingError) as error:
            quarantined.append(_quarantine_row(raw, str(error), source))
        except Exception as error:  # a mapper tripping on odd data must not stop the import
            reason = f"Mapping failed ({type(error).__name__}: {error})"
            quarantined.append(_quarantine_row(raw, reason, source))
    return incoming, quarantined


# A worker's answer: each mapped resource with its position in the chunk, and the quarantine rows.
_RemoteAnswer = tuple[list[tuple[int, _Incoming]], list[Row]]


def _prepare_remote(chunk: list[Any], source: str) -> _RemoteAnswer:
    """``_prepare_chunk`` in a worker: the raw JSON stays out of the answer (the caller has it;
    sending it back would cost as much as validating), positions say whose rows are whose."""
    position = {id(raw): index for index, raw in enumerate(chunk)}
    incoming, quarantined = _prepare_chunk(chunk, source)
    placed = []
    for item in incoming:
        index = position[id(item.raw)]
        item.raw = {}  # restored by _gathered from the caller's copy
        placed.append((index, item))
    return placed, quarantined


def _gathered(
    parts: list[tuple[list[Any], Future[_RemoteAnswer]]], own: tuple[list[_Incoming], list[Row]]
) -> tuple[list[_Incoming], list[Row]]:
    incoming, quarantined = list(own[0]), list(own[1])
    for chunk, future in parts:
        placed, done_quarantined = future.result()
        for index, item in placed:
            item.raw = chunk[index]
            incoming.append(item)
        quarantined += done_quarantined
    return incoming, quarantined


def _map_raw(raw: Any) -> _Incoming:
    resource_type = raw.get("resourceType") if isinstance(raw, dict) else None
    if resource_type and resource_type not in MAPPINGS:
        raise InvalidResource(f"Unsupported resourceType {resource_type!r}")
    resource = parse_resource(raw)
    try:
        rows = map_resource(resource)
    except MappingError as error:
        raise MappingError(f"Cannot be stored: {error}") from None
    results = report_result_references(resource) if resource_type == "DiagnosticReport" else []
    # The parsed model's type: the raw one, now known to be a str (a key of MAPPINGS).
    return _Incoming(raw, resource.get_resource_type(), _fhir_id(resource), rows, results)


def _fhir_id(resource: FHIRAbstractModel) -> str:
    """The id of a parsed resource (parse_resource refuses JSON without one)."""
    if not isinstance(resource, Resource) or not resource.id:
        raise InvalidResource("No id")
    return resource.id


def _quarantine_row(raw: Any, reason: str, source: str) -> Row:
    resource_type = raw.get("resourceType") if isinstance(raw, dict) else None
    fhir_id = raw.get("id") if isinstance(raw, dict) else None
    return {
        "source": source,
        "resource_type": _clip(resource_type, 64),
        "fhir_id": _clip(fhir_id, 64),
        "reason": _clip(reason, 4000),
        "raw_json": json.dumps(raw, default=str),
    }


def _is_data_error(error: SQLAlchemyError) -> bool:
    """Errors one resource's data can cause; others (connection lost, locked) are not its fault."""
    return isinstance(error, IntegrityError | DataError) or type(error) is StatementError


def _clip(value: Any, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
