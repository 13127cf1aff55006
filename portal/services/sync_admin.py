"""EHR sync administration: health, run history, quarantine and outbox, "sync now" (admins only).

Quarantined resources and outbox items hold patient data (raw FHIR JSON), so listing them and
acting on them is audited like any other read or write of health data.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import OutboxItem, OutboxStatus, QuarantinedResource, SyncRun, User
from ehr_sync import jobs
from ehr_sync.importer import import_resources
from portal.config import get_settings
from portal.errors import InvalidInput, NotFound, PortalError
from portal.permissions import Action
from portal.services import audit
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found

CATEGORY = "ehr_sync"
COUNT_NAMES = ("fetched", "created", "updated", "skipped", "quarantined", "deleted")


class SyncNotConfigured(PortalError):
    user_message = (
        "No EHR is connected, so there is nothing to sync. Set FHIR_BASE_URL (and the EHR's "
        "sign-in settings) and restart the portal."
    )


class SyncAlreadyRunning(PortalError):
    user_message = "A sync is running right now. Please try again in a minute."


def _audit(session: Session, actor: User, action: str, detail: str, now: datetime) -> None:
    audit.record(
        session=session, actor=actor, category=CATEGORY, action=action, detail=detail, now=now
    )


# --- health and runs ----------------------------------------------------------------------------


@dataclass
class SyncHealth:
    configured: bool
    base_url: str | None
    interval_minutes: float
    last_run: SyncRun | None
    last_success: SyncRun | None
    age: timedelta | None  # since the last successful run finished

    @property
    def outage(self) -> str | None:
        """The failed last run's first error line (for an outage: what, since when, next try)."""
        run = self.last_run
        if run is None or run.status != "failed" or not run.errors:
            return None
        return run.errors.splitlines()[0]

    @property
    def state(self) -> str:
        """ok / stale / failing / never / not configured, for the page's headline."""
        if not self.configured:
            return "not configured"
        if self.last_success is None:
            return "failing" if self.last_run is not None else "never"
        if self.last_run is not None and self.last_run.status == "failed":
            return "failing"
        # Three missed intervals (and at least an hour) without success is worth a look.
        limit = max(timedelta(minutes=3 * self.interval_minutes), timedelta(hours=1))
        return "stale" if self.age is not None and self.age > limit else "ok"


def sync_health(actor: User, *, session: Session, now: datetime) -> SyncHealth:
    require_permission(actor, Action.MANAGE_EHR_SYNC, session=session, now=now)
    settings = get_settings()
    source = settings.fhir_source
    last_run = session.exec(
        select(SyncRun)
        .where(SyncRun.source == source, SyncRun.status != "running")
        .order_by(col(SyncRun.started_at).desc(), col(SyncRun.id).desc())
        .limit(1)
    ).first()
    last_success = session.exec(
        select(SyncRun)
        .where(SyncRun.source == source, col(SyncRun.status).in_(["succeeded", "partial"]))
        .order_by(col(SyncRun.started_at).desc(), col(SyncRun.id).desc())
        .limit(1)
    ).first()
    finished = last_success.finished_at if last_success else None
    return SyncHealth(
        configured=jobs.ehr_configured(settings),
        base_url=settings.fhir_base_url,
        interval_minutes=settings.sync_interval_minutes,
        last_run=last_run,
        last_success=last_success,
        age=now - finished if finished else None,
    )


@dataclass
class RunRow:
    run: SyncRun
    counts: dict[str, dict[str, int]]  # resource type -> fetched/created/... (non-zero types)


def recent_runs(actor: User, *, session: Session, limit: int = 20) -> list[RunRow]:
    """The latest runs, newest first, with their counts per resource type."""
    require_permission(actor, Action.MANAGE_EHR_SYNC, session=session, now=None)
    runs = session.exec(
        select(SyncRun)
        .order_by(col(SyncRun.started_at).desc(), col(SyncRun.id).desc())
        .limit(limit)
    ).all()
    rows = []
    for run in runs:
        try:
            counts = json.loads(run.counts_json or "{}")
        except ValueError:
            counts = {}
        counts = {t: c for t, c in counts.items() if any(c.get(n) for n in COUNT_NAMES)}
        rows.append(RunRow(run, counts))
    return rows


# --- quarantine -------------------------------------------------------------------------------


def quarantined(
    actor: User, *, session: Session, now: datetime, limit: int = 200
) -> list[QuarantinedResource]:
    """Unresolved quarantined resources, newest first (audited: they hold patient data)."""
    require_permission(actor, Action.MANAGE_EHR_SYNC, session=session, now=now)
    rows = list(
        session.exec(
            select(QuarantinedResource)
            .where(col(QuarantinedResource.resolved_at).is_(None))
            .order_by(
                col(QuarantinedResource.received_at).desc(), col(QuarantinedResource.id).desc()
            )
            .limit(limit)
        ).all()
    )
    _audit(session, actor, "read", f"quarantine list ({len(rows)})", now)
    session.commit()
    return rows


@dataclass
class RetryResult:
    imported: bool
    reason: str | None  # why it is still quarantined


def retry_quarantined(actor: User, item_id: int, *, session: Session, now: datetime) -> RetryResult:
    """Import a quarantined resource's raw JSON again (after a fix); audited.

    The row is resolved either way; if the resource still fails, the importer keeps it again as a
    new row with today's reason.
    """
    require_permission(actor, Action.MANAGE_EHR_SYNC, session=session, now=now)
    row = session.get(QuarantinedResource, item_id)
    if row is None or row.resolved_at is not None:
        raise NotFound("That quarantined resource is gone or was already retried.")
    try:
        raw = json.loads(row.raw_json)
    except ValueError:
        raise InvalidInput("Its stored JSON cannot be read, so it cannot be imported.") from None
    label = f"{row.resource_type}/{row.fhir_id}"
    # Resolve first, so the importer's new quarantine row (if any) is the only open one.
    row.resolved_at = now
    session.add(row)
    session.commit()
    report = import_resources([raw], session=session, source=row.source, now=now)
    imported = report.quarantined == 0
    reason = None
    if not imported:
        again = session.exec(
            select(QuarantinedResource)
            .where(
                QuarantinedResource.source == row.source,
                QuarantinedResource.fhir_id == row.fhir_id,
                col(QuarantinedResource.resolved_at).is_(None),
            )
            .order_by(col(QuarantinedResource.id).desc())
            .limit(1)
        ).first()
        reason = again.reason if again else row.reason
    outcome = "imported" if imported else "still quarantined"
    _audit(session, actor, "retry", f"quarantine {item_id} {label}: {outcome}", now)
    session.commit()
    return RetryResult(imported=imported, reason=reason)


# --- outbox -----------------------------------------------------------------------------------


@dataclass
class OutboxSummary:
    counts: dict[str, int]  # status -> items
    problems: list[OutboxItem]  # stuck, or pending after a failed attempt


def outbox_summary(
    actor: User, *, session: Session, now: datetime, limit: int = 100
) -> OutboxSummary:
    require_permission(actor, Action.MANAGE_EHR_SYNC, session=session, now=now)
    counts = {status.value: 0 for status in OutboxStatus}
    for status, count in session.exec(
        select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    ).all():
        counts[status] = count
    problems = list(
        session.exec(
            select(OutboxItem)
            .where(
                (OutboxItem.status == OutboxStatus.STUCK)
                | ((OutboxItem.status == OutboxStatus.PENDING) & (OutboxItem.attempts > 0))
            )
            .order_by(col(OutboxItem.id))
            .limit(limit)
        ).all()
    )
    _audit(session, actor, "read", f"outbox ({len(problems)} failed items)", now)
    session.commit()
    return OutboxSummary(counts=counts, problems=problems)


def retry_outbox_item(actor: User, item_id: int, *, session: Session, now: datetime) -> OutboxItem:
    """Send a stuck or waiting item again at the next delivery, with a fresh count of tries."""
    require_permission(actor, Action.MANAGE_EHR_SYNC, session=session, now=now)
    item = get_or_not_found(session, OutboxItem, item_id, "That outbox item is gone.")
    if item.status not in (OutboxStatus.STUCK, OutboxStatus.PENDING):
        raise InvalidInput("That item was already delivered or replaced by a newer change.")
    item.status = OutboxStatus.PENDING
    item.attempts = 0
    item.next_attempt_at = now
    session.add(item)
    _audit(session, actor, "retry", f"outbox {item.id} {item.resource_type}/{item.fhir_id}", now)
    session.commit()
    return item


# --- sync now ---------------------------------------------------------------------------------


def sync_now(actor: User, *, session: Session, now: datetime) -> jobs.SyncOutcome:
    """Deliver the outbox and run one sync in this request (admins only; audited)."""
    require_permission(actor, Action.MANAGE_EHR_SYNC, session=session, now=now)
    settings = get_settings()
    if not jobs.ehr_configured(settings):
        raise SyncNotConfigured()
    _audit(session, actor, "sync", "sync now", now)
    session.commit()
    try:
        return jobs.sync_once(trigger="manual", settings=settings)
    except jobs.SyncBusy:
        raise SyncAlreadyRunning() from None
    except jobs.NotConfigured as error:
        raise SyncNotConfigured(f"The EHR connection is not set up fully: {error}") from None
    except Exception as error:  # e.g. the SMART key file cannot be read
        raise PortalError(
            f"The sync could not run ({type(error).__name__}: {error}). See the server log."
        ) from None
