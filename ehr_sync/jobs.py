"""The periodic work as plain functions, with no side effects on import.

One tick: expire waitlist offers, send due visit reminders, then (when an EHR is configured)
deliver the write-back outbox and run an incremental sync. The EHR part runs under a run lock, so
a "Sync now" click and the scheduler never sync at the same time, on one replica or several.
Each step runs in its own session and a failing step does not stop the others.

Used by the scheduler (``ehr_sync.scheduler``), the admin page and ``python -m portal.cli sync``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import db.engine
from ehr_sync.auth import Auth, BearerAuth, NoAuth, SmartBackendAuth
from ehr_sync.client import FhirClient
from ehr_sync.delivery import DeliveryReport, deliver_pending
from ehr_sync.locks import JobLock, make_lock
from ehr_sync.sync import SyncResult, run_sync
from portal.config import Settings, get_settings

log = logging.getLogger(__name__)

RUN_LOCK_NAME = "ehr-sync-run"
# The outbox has its own back-off between ticks; within one delivery, retry only briefly.
DELIVERY_ATTEMPTS = 2


class NotConfigured(Exception):
    """No EHR address is set, so there is nothing to sync with."""


class SyncBusy(Exception):
    """Another sync (scheduled, or someone's "Sync now") is running right now."""


@dataclass
class SyncOutcome:
    result: SyncResult | None
    delivery: DeliveryReport | None
    errors: list[str] = field(default_factory=list)


@dataclass
class TickReport:
    offers_expired: int | None = None
    reminders_sent: int | None = None
    extra_reminders_sent: int | None = None  # high no-show risk visits
    audit_checkpoint: object | None = None  # the signed checkpoint written outside the database
    sync: SyncOutcome | None = None
    ehr: str = "not configured"  # not configured / done / busy
    errors: list[str] = field(default_factory=list)


def utc_now() -> datetime:
    return datetime.now(UTC)


def ehr_configured(settings: Settings) -> bool:
    return bool(settings.fhir_base_url)


def make_auth(settings: Settings) -> Auth:
    if settings.fhir_auth == "none":
        return NoAuth()
    if settings.fhir_auth == "bearer":
        if not settings.fhir_bearer_token:
            raise NotConfigured("FHIR_AUTH is bearer but FHIR_BEARER_TOKEN is not set.")
        return BearerAuth(settings.fhir_bearer_token)
    if settings.fhir_auth == "smart":
        missing = [
            name
            for name in ("fhir_token_url", "fhir_client_id", "fhir_private_key_path")
            if not getattr(settings, name)
        ]
        token_url, client_id = settings.fhir_token_url, settings.fhir_client_id
        key_path = settings.fhir_private_key_path
        if missing or not token_url or not client_id or not key_path:  # the same test, typed
            names = ", ".join(m.upper() for m in missing)
            raise NotConfigured(f"FHIR_AUTH is smart but {names} is not set.")
        return SmartBackendAuth(
            token_url=token_url,
            client_id=client_id,
            private_key_pem=Path(key_path).read_bytes(),
            key_id=settings.fhir_key_id,
            scope=settings.fhir_scope,
            timeout=settings.fhir_timeout_seconds,
        )
    raise NotConfigured(f"FHIR_AUTH must be none, bearer or smart, not {settings.fhir_auth!r}.")


def make_client(settings: Settings, *, max_attempts: int | None = None) -> FhirClient:
    """A client for the configured EHR; NotConfigured when there is none."""
    if not ehr_configured(settings) or not settings.fhir_base_url:  # one test, said twice for types
        raise NotConfigured("No EHR is configured (FHIR_BASE_URL is not set).")
    return FhirClient(
        settings.fhir_base_url,
        auth=make_auth(settings),
        timeout=settings.fhir_timeout_seconds,
        max_attempts=max_attempts or settings.fhir_max_attempts,
        backoff_max=settings.fhir_backoff_max_seconds,
        page_size=settings.fhir_page_size,
    )


def run_lock(settings: Settings) -> JobLock:
    return make_lock(db.engine.get_engine(), RUN_LOCK_NAME, state_dir=settings.state_dir)


ClientFactory = Callable[..., FhirClient]


def sync_once(
    *,
    trigger: str,
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    client_factory: ClientFactory = make_client,
) -> SyncOutcome:
    """Deliver the outbox, then sync, holding the run lock. NotConfigured / SyncBusy otherwise."""
    settings = settings or get_settings()
    if not ehr_configured(settings):
        raise NotConfigured("No EHR is configured (FHIR_BASE_URL is not set).")
    lock = run_lock(settings)
    if not lock.try_acquire():
        raise SyncBusy("Another sync is running right now.")
    try:
        return _sync_and_deliver(settings, trigger, clock, client_factory)
    finally:
        lock.release()


def _sync_and_deliver(
    settings: Settings, trigger: str, clock: Callable[[], datetime], client_factory: ClientFactory
) -> SyncOutcome:
    outcome = SyncOutcome(result=None, delivery=None)
    try:
        with (
            client_factory(settings, max_attempts=DELIVERY_ATTEMPTS) as client,
            db.engine.session_scope() as session,
        ):
            outcome.delivery = deliver_pending(
                client,
                session=session,
                now=clock(),
                source=settings.fhir_source,
                max_attempts=settings.outbox_max_attempts,
            )
    except Exception as error:
        log.exception("outbox delivery failed")
        outcome.errors.append(f"Outbox delivery: {type(error).__name__}: {error}")
    with client_factory(settings) as client, db.engine.session_scope() as session:
        outcome.result = run_sync(
            client,
            session=session,
            source=settings.fhir_source,
            trigger=trigger,
            overlap=timedelta(seconds=settings.sync_overlap_seconds),
            clock=clock,
            next_try_in=timedelta(minutes=settings.sync_interval_minutes)
            if settings.scheduler_enabled and settings.sync_interval_minutes > 0
            else None,
        )
    return outcome


def run_tick(
    *,
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    client_factory: ClientFactory = make_client,
) -> TickReport:
    """One scheduler tick: the local jobs always, the EHR work when an EHR is configured."""
    from portal.services import audit_checkpoints, no_show
    from portal.services.scheduling import reminders, waitlist

    settings = settings or get_settings()
    report = TickReport()
    # (report field, label for the admin page, what failed for the log, the job). The jobs are
    # looked up at call time, so each one fails alone and the others still run.
    local_jobs = (
        (
            "offers_expired",
            "Waitlist offers",
            "expiring waitlist offers",
            lambda session, now: waitlist.expire_offers(session=session, now=now),
        ),
        (
            "reminders_sent",
            "Visit reminders",
            "sending visit reminders",
            lambda session, now: reminders.send_due_reminders(session=session, now=now),
        ),
        (
            "extra_reminders_sent",
            "No-show reminders",
            "sending extra reminders to high no-show risk visits",
            lambda session, now: no_show.send_extra_reminders(session=session, now=now),
        ),
        (
            "audit_checkpoint",
            "Audit checkpoint",
            "anchoring the audit trail",
            # Also raises the alarm when the append-only guard is missing.
            lambda session, now: audit_checkpoints.anchor(session, now=now, settings=settings),
        ),
    )
    for attribute, label, what, job in local_jobs:
        try:
            with db.engine.session_scope() as session:
                setattr(report, attribute, job(session, clock()))
        except Exception as error:
            log.exception("%s failed", what)
            report.errors.append(f"{label}: {type(error).__name__}: {error}")
    if not ehr_configured(settings):
        return report
    try:
        report.sync = sync_once(
            trigger="schedule", settings=settings, clock=clock, client_factory=client_factory
        )
        report.ehr = "done"
        report.errors += report.sync.errors
    except SyncBusy:
        report.ehr = "busy"
    except Exception as error:
        log.exception("EHR sync failed")
        report.ehr = "failed"
        report.errors.append(f"EHR sync: {type(error).__name__}: {error}")
    return report
