"""Incremental EHR sync: per resource type, fetch what changed since its checkpoint and import it.

Crash safety: each page's rows are committed by the importer first, and only then is the type's
checkpoint moved to the newest ``meta.lastUpdated`` on that page (its own commit). A crash in
between re-reads that page next time, and since its versions are then unchanged they are skipped.
The search asks for ``_lastUpdated=gt<checkpoint - overlap>`` so resources the EHR committed a
little late, or stamped by a clock slightly behind, are not missed.

The server's clock: when the server stamps its search Bundles (``meta.lastUpdated``, as HAPI does;
an ``$export`` has its ``transactionTime``), a complete pass has read everything stamped before the
search began, less the few seconds a transaction may take to commit (``commit_window``). That is
kept as the type's ``server_time`` and the next search starts from it, so a re-sync right after a
bulk load reads almost nothing instead of the whole load again (it fell inside the overlap).

Cost: validation with the R4B models is the expensive step, so resources whose ``meta.versionId``
is already stored are dropped before the importer sees them.

Deletions: a FHIR search never returns deleted resources, so after the incremental pass each type's
stored count is compared with the server's ``total``; only when we hold more than the server
could account for do we list the server's ids and remove the rows it no longer has.
"""

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import FhirRow, Patient, QuarantinedResource, SyncCheckpoint, SyncRun, saved_id
from ehr_sync.client import EhrUnreachable, FhirClient, bundle_resources
from ehr_sync.importer import import_resources
from ehr_sync.mappers import MAPPINGS
from portal.services.writeback import PORTAL_SYSTEM, is_from_portal

SYNC_TYPES: tuple[str, ...] = tuple(MAPPINGS)  # dependency order: Practitioner, Patient, ...
ENTERED_IN_ERROR = "entered-in-error"
# version_id of a row the EHR deleted but that portal data still points at (so it cannot go).
DELETED_VERSION = "deleted"
_ID_BATCH = 500
WRITE_BACK_TYPES = frozenset({"Appointment", "MedicationRequest", "Communication"})
# With the server's own clock there is no skew to allow for, only a transaction still committing.
COMMIT_WINDOW = timedelta(seconds=5)


@dataclass
class TypeStats:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    quarantined: int = 0
    deleted: int = 0


@dataclass
class SyncResult:
    run_id: int
    status: str
    stats: dict[str, TypeStats]
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.stats.values())


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_sync(
    client: FhirClient,
    *,
    session: Session,
    source: str = "ehr",
    trigger: str = "manual",
    overlap: timedelta = timedelta(seconds=120),
    types: Iterable[str] = SYNC_TYPES,
    clock: Callable[[], datetime] = utc_now,
    sweep_deletions: bool = True,
    commit_window: timedelta = COMMIT_WINDOW,
    next_try_in: timedelta | None = None,
) -> SyncResult:
    """One sync run, recorded in SyncRun. A type that fails is noted and the run goes on; an EHR
    that refuses connections ends the run at once, failed, with one line saying so."""
    sync = _Sync(client, session, source, overlap, clock, commit_window)
    sync.next_try_in = next_try_in
    return sync.run(list(types), trigger=trigger, sweep_deletions=sweep_deletions)


class _Sync:
    def __init__(
        self,
        client: FhirClient,
        session: Session,
        source: str,
        overlap: timedelta,
        clock: Callable[[], datetime],
        commit_window: timedelta = COMMIT_WINDOW,
    ) -> None:
        self.client = client
        self.session = session
        self.source = source
        self.overlap = overlap
        self.clock = clock
        self.commit_window = commit_window
        self.next_try_in: timedelta | None = None

    def run(self, types: list[str], *, trigger: str, sweep_deletions: bool) -> SyncResult:
        started = time.monotonic()
        run = SyncRun(source=self.source, trigger=trigger, started_at=self.clock())
        self.session.add(run)
        self.session.commit()
        stats = {rtype: TypeStats() for rtype in types}
        errors: list[str] = []
        retries_before = self.client.retries
        unreachable = False
        for rtype in types:
            try:
                self._sync_type(rtype, stats[rtype])
            except EhrUnreachable as error:
                self.session.rollback()
                errors = [self._outage_line(error, run)]
                unreachable = True
                break
            except Exception as error:  # one type failing must not stop the others
                self.session.rollback()
                errors.append(f"{rtype}: {type(error).__name__}: {error}"[:1000])
        if sweep_deletions and not unreachable:
            # Dependants first, so a deleted Patient's records go before the Patient does.
            for rtype in reversed(types):
                try:
                    self._sweep_deletions(rtype, stats[rtype], errors)
                except Exception as error:
                    self.session.rollback()
                    errors.append(f"{rtype} deletions: {type(error).__name__}: {error}"[:1000])
        result = SyncResult(
            run_id=saved_id(run),
            status="failed" if unreachable else _status(errors, stats, types),
            stats=stats,
            errors=errors,
            seconds=time.monotonic() - started,
        )
        self._finish(run, result, retries=self.client.retries - retries_before)
        return result

    def _outage_line(self, error: EhrUnreachable, run: SyncRun) -> str:
        """What failed, since when, and when the next try is: one line for the run record."""
        from portal.timefmt import format_datetime  # clinic time, as staff read it

        last_good = select(func.max(SyncRun.started_at)).where(
            col(SyncRun.source) == self.source, col(SyncRun.status).in_(["succeeded", "partial"])
        )
        first_failure = self.session.exec(
            select(func.min(SyncRun.started_at)).where(
                SyncRun.source == self.source,
                SyncRun.status == "failed",
                SyncRun.started_at > func.coalesce(last_good.scalar_subquery(), run.started_at),
            )
        ).one()
        since = min(first_failure or run.started_at, run.started_at)
        if self.next_try_in:
            next_try = f"next try at {format_datetime(self.clock() + self.next_try_in)}"
        else:
            next_try = "next try when the sync runs again"
        return f"{error}; failing since {format_datetime(since)}; {next_try}."

    def _finish(self, run: SyncRun, result: SyncResult, *, retries: int) -> None:
        run = self.session.merge(run)
        run.finished_at = self.clock()
        run.status = result.status
        for name in ("fetched", "created", "updated", "skipped", "quarantined", "deleted"):
            setattr(run, name, result.total(name))
        run.retries = retries
        run.counts_json = json.dumps({t: asdict(s) for t, s in result.stats.items()})
        run.errors = "\n".join(result.errors) or None
        self.session.add(run)
        self.session.commit()

    # --- incremental pass -------------------------------------------------------------------

    def _sync_type(self, rtype: str, stats: TypeStats) -> None:
        model = MAPPINGS[rtype].model
        since = self._since(rtype)
        params: dict[str, Any] = {"_sort": "_lastUpdated"}
        if since is not None:
            params["_lastUpdated"] = f"gt{since.isoformat().replace('+00:00', 'Z')}"
        server_time: datetime | None = None
        for page, bundle in enumerate(self.client.search_pages(rtype, params)):
            if page == 0:
                server_time = _last_updated(bundle)
            resources = [r for r in bundle_resources(bundle) if r.get("resourceType") == rtype]
            stats.fetched += len(resources)
            # What the portal wrote back is already here as a booking, refill or message.
            changed = [r for r in resources if not is_from_portal(r)]
            changed = self._drop_unchanged(model, rtype, changed)
            stats.skipped += len(resources) - len(changed)
            if changed:
                if rtype not in ("Patient", "Practitioner"):
                    self._import_missing_patients(changed)
                report = import_resources(
                    changed, session=self.session, source=self.source, now=self.clock()
                )
                counts = report.counts(rtype)
                stats.created += counts.created
                stats.updated += counts.updated
                stats.quarantined += counts.quarantined
                self._withdraw_entered_in_error(model, changed)
            # Only now, with the page's rows committed, may the checkpoint pass them.
            newest = max((_last_updated(r) for r in resources), default=None, key=_sort_key)
            if newest is not None:
                set_checkpoint(self.session, self.source, rtype, newest, now=self.clock())
            self.session.commit()
        if server_time is not None:
            # The whole pass is stored: everything stamped before the search began is here.
            set_server_time(self.session, self.source, rtype, server_time, now=self.clock())
            self.session.commit()

    def _since(self, rtype: str) -> datetime | None:
        """Where this type's search starts: the later of the two safe marks we hold."""
        row = self.session.exec(
            select(SyncCheckpoint).where(
                SyncCheckpoint.source == self.source, SyncCheckpoint.resource_type == rtype
            )
        ).first()
        if row is None:
            return None
        marks = []
        if row.last_updated is not None:
            marks.append(row.last_updated - self.overlap)
        if row.server_time is not None:
            marks.append(row.server_time - self.commit_window)
        return max(marks, default=None)

    def _drop_unchanged(
        self, model: type[FhirRow], rtype: str, resources: list[dict[str, Any]]
    ) -> list[Any]:
        """Resources whose version is not stored yet (nor already quarantined as it is)."""
        versions = {r.get("id"): _version(r) for r in resources if isinstance(r, dict)}
        ids = [i for i in versions if isinstance(i, str)]
        if not ids:
            return resources
        stored = dict(
            self.session.exec(
                select(model.fhir_id, model.version_id)
                .where(col(model.source) == self.source, col(model.fhir_id).in_(ids))
                .distinct()
            ).all()
        )
        quarantined = self._quarantined_versions(rtype, ids)
        changed = []
        for resource in resources:
            fhir_id = resource.get("id") if isinstance(resource, dict) else None
            if fhir_id is not None:  # a resource without an id is never "unchanged"
                version = versions.get(fhir_id)
                if version is not None and version in (
                    stored.get(fhir_id),
                    quarantined.get(fhir_id),
                ):
                    continue
            changed.append(resource)
        return changed

    def _quarantined_versions(self, rtype: str, ids: list[str]) -> dict[str, str]:
        rows = self.session.exec(
            select(QuarantinedResource.fhir_id, QuarantinedResource.raw_json).where(
                QuarantinedResource.source == self.source,
                QuarantinedResource.resource_type == rtype,
                col(QuarantinedResource.fhir_id).in_(ids),
                col(QuarantinedResource.resolved_at).is_(None),
            )
        ).all()
        versions: dict[str, str] = {}
        for fhir_id, raw in rows:
            try:
                version = _version(json.loads(raw))
            except ValueError:
                continue
            if version and fhir_id is not None:  # the query asked for these ids: never None
                versions[fhir_id] = version
        return versions

    def _import_missing_patients(self, resources: list[dict[str, Any]]) -> None:
        """A record may name a Patient created after this run's Patient pass: fetch it now, or
        the record would be quarantined and, with the checkpoint past it, not come back."""
        wanted = {ref for r in resources for ref in _patient_refs(r)}
        if not wanted:
            return
        have = set(
            self.session.exec(
                select(Patient.fhir_id).where(
                    col(Patient.source) == self.source, col(Patient.fhir_id).in_(wanted)
                )
            ).all()
        )
        missing = sorted(wanted - have)
        for start in range(0, len(missing), 50):
            ids = ",".join(missing[start : start + 50])
            patients = [
                p
                for b in self.client.search_pages("Patient", {"_id": ids})
                for p in bundle_resources(b)
            ]
            if patients:
                import_resources(
                    patients, session=self.session, source=self.source, now=self.clock()
                )

    def _withdraw_entered_in_error(
        self, model: type[FhirRow], resources: list[dict[str, Any]]
    ) -> None:
        """Condition and AllergyIntolerance say "entered in error" in verificationStatus, which
        the mapper does not store: record it in the status the record pages filter on."""
        if not hasattr(model, "clinical_status"):
            return  # other types carry it in status, which the mapper stores as it is
        ids = [r["id"] for r in resources if _verification_entered_in_error(r)]
        if ids:
            self.session.exec(
                update(model)
                .where(col(model.source) == self.source, col(model.fhir_id).in_(ids))
                .values(clinical_status=ENTERED_IN_ERROR)
            )
            self.session.commit()

    # --- deletions ----------------------------------------------------------------------------

    def _sweep_deletions(self, rtype: str, stats: TypeStats, errors: list[str]) -> None:
        model = MAPPINGS[rtype].model
        local = self.session.exec(
            select(func.count(func.distinct(model.fhir_id))).where(
                model.source == self.source, _not_deleted(model)
            )
        ).one()
        if local == 0:
            return
        remote = self.client.count(rtype)
        if rtype in WRITE_BACK_TYPES:  # the server's total counts what the portal sent, too
            remote -= self.client.count(rtype, {"identifier": f"{PORTAL_SYSTEM}|"})
        waiting = self._quarantined_not_stored(model, rtype)
        if local + waiting <= remote:
            return  # every stored row is accounted for by the server
        remote_ids: set[str] = set()
        for bundle in self.client.search_pages(rtype, {"_elements": "id"}):
            remote_ids.update(r["id"] for r in bundle_resources(bundle) if r.get("id"))
        stored = self.session.exec(
            select(model.fhir_id).where(model.source == self.source, _not_deleted(model)).distinct()
        ).all()
        gone = sorted(set(stored) - remote_ids)
        for fhir_id in gone:
            if self._delete_rows(model, fhir_id):
                stats.deleted += 1
            else:
                errors.append(
                    f"{rtype}/{fhir_id} was deleted in the EHR but portal data refers to it; "
                    "it is hidden where the record has a status and kept otherwise"
                )

    def _quarantined_not_stored(self, model: type[FhirRow], rtype: str) -> int:
        stored = select(model.fhir_id).where(model.source == self.source)
        return self.session.exec(
            select(func.count(func.distinct(QuarantinedResource.fhir_id))).where(
                QuarantinedResource.source == self.source,
                QuarantinedResource.resource_type == rtype,
                col(QuarantinedResource.resolved_at).is_(None),
                col(QuarantinedResource.fhir_id).not_in(stored),
            )
        ).one()

    def _delete_rows(self, model: type[FhirRow], fhir_id: str) -> bool:
        """Delete the resource's rows; if portal rows point at them, mark them deleted instead."""
        where = (col(model.source) == self.source, col(model.fhir_id) == fhir_id)
        try:
            with self.session.begin_nested():
                self.session.exec(delete(model).where(*where))
            self.session.commit()
            return True
        except IntegrityError:
            self.session.rollback()
        values: dict[str, Any] = {"version_id": DELETED_VERSION}
        for column in ("status", "clinical_status"):
            if hasattr(model, column):
                values[column] = ENTERED_IN_ERROR
        self.session.exec(update(model).where(*where).values(**values))
        self.session.commit()
        return "status" in values or "clinical_status" in values


# --- checkpoints ------------------------------------------------------------------------------


def get_checkpoint(session: Session, source: str, resource_type: str) -> datetime | None:
    row = session.exec(
        select(SyncCheckpoint.last_updated).where(
            SyncCheckpoint.source == source, SyncCheckpoint.resource_type == resource_type
        )
    ).first()
    return row


def set_checkpoint(
    session: Session, source: str, resource_type: str, last_updated: datetime, *, now: datetime
) -> None:
    """Move the checkpoint forward (never back); the caller commits."""
    row = session.exec(
        select(SyncCheckpoint).where(
            SyncCheckpoint.source == source, SyncCheckpoint.resource_type == resource_type
        )
    ).first()
    if row is None:
        row = SyncCheckpoint(source=source, resource_type=resource_type)
    if row.last_updated is None or last_updated > row.last_updated:
        row.last_updated = last_updated
    row.updated_at = now
    session.add(row)


def set_server_time(
    session: Session, source: str, resource_type: str, server_time: datetime, *, now: datetime
) -> None:
    """Record the server's clock at the start of a complete pass (never moved back)."""
    row = session.exec(
        select(SyncCheckpoint).where(
            SyncCheckpoint.source == source, SyncCheckpoint.resource_type == resource_type
        )
    ).first()
    if row is None:
        row = SyncCheckpoint(source=source, resource_type=resource_type)
    if row.server_time is None or server_time > row.server_time:
        row.server_time = server_time
    row.updated_at = now
    session.add(row)


def reset_checkpoints(session: Session, source: str) -> None:
    """Forget every checkpoint, so the next run reads everything again (unchanged rows skip)."""
    session.exec(delete(SyncCheckpoint).where(col(SyncCheckpoint.source) == source))
    session.commit()


# --- reading raw resources --------------------------------------------------------------------


def _version(resource: Any) -> str | None:
    meta = resource.get("meta") if isinstance(resource, dict) else None
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return version if isinstance(version, str) else None


def _last_updated(resource: Any) -> datetime | None:
    meta = resource.get("meta") if isinstance(resource, dict) else None
    stamp = meta.get("lastUpdated") if isinstance(meta, dict) else None
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sort_key(moment: datetime | None) -> datetime:
    return moment or datetime.min.replace(tzinfo=UTC)


def _patient_refs(resource: dict[str, Any]) -> set[str]:
    refs = []
    for key in ("subject", "patient"):
        value = resource.get(key)
        if isinstance(value, dict):
            refs.append(value.get("reference"))
    for participant in resource.get("participant") or []:
        if isinstance(participant, dict) and isinstance(participant.get("actor"), dict):
            refs.append(participant["actor"].get("reference"))
    return {
        ref.removeprefix("Patient/")
        for ref in refs
        if isinstance(ref, str) and ref.startswith("Patient/") and ref.count("/") == 1
    }


def _verification_entered_in_error(resource: dict[str, Any]) -> bool:
    status = resource.get("verificationStatus")
    codings = status.get("coding") if isinstance(status, dict) else None
    return any(isinstance(c, dict) and c.get("code") == ENTERED_IN_ERROR for c in codings or [])


def _not_deleted(model: type[FhirRow]) -> ColumnElement[bool]:
    return col(model.version_id).is_(None) | (col(model.version_id) != DELETED_VERSION)


def _status(errors: list[str], stats: dict[str, TypeStats], types: list[str]) -> str:
    if not errors:
        return "succeeded"
    failed_types = {e.split(":", 1)[0] for e in errors}
    return "failed" if failed_types >= set(types) else "partial"
