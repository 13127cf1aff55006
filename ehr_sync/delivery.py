"""Deliver the write-back outbox to the EHR: at least once, and idempotent on the server.

Each item is claimed before it is sent (its attempt count goes up and its next attempt moves a
lease ahead, committed), then PUT to the id the portal assigned, then marked sent. A crash or a
lost answer between the PUT and the mark leaves the item pending; when the lease ends it is sent
again, and the second PUT to the same id updates the resource instead of adding one.

Failures wait longer each time (exponential back-off with jitter); after ``max_attempts`` the item
is "stuck" and waits for an admin. An answer that retrying cannot change (400, 403, 404, 422...)
makes it stuck at once. Items of one resource go in order: an older one still pending blocks the
newer, so a cancellation never lands before the booking it cancels.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.models import OutboxItem, OutboxStatus, saved_ids
from ehr_sync.auth import AuthError
from ehr_sync.client import FHIR_JSON, EhrUnreachable, FhirClient, RetryableError

LEASE = timedelta(minutes=5)  # an item being sent is not picked up again before this
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # will be tried again
    stuck: int = 0  # gave up; an admin must look

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.stuck


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Pause after the ``attempts``-th failure: 1, 2, 4 ... minutes (capped), +-20 % jitter."""
    base: timedelta = min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    jitter: float = (rng or random).uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not a secret
    return base * jitter


def deliver_pending(
    client: FhirClient,
    *,
    session: Session,
    now: datetime,
    source: str,
    max_attempts: int,
    limit: int = 200,
) -> DeliveryReport:
    """Send the items that are due, oldest first; each outcome is committed as it happens."""
    report = DeliveryReport()
    due = session.exec(
        select(OutboxItem.id)
        .where(
            OutboxItem.source == source,
            OutboxItem.status == OutboxStatus.PENDING,
            OutboxItem.next_attempt_at <= now,
        )
        .order_by(col(OutboxItem.id))
        .limit(limit)
    ).all()
    for item_id in saved_ids(due):
        item = _claim(session, item_id, now)
        if item is None:
            continue  # another deliverer took it, or an older item of its resource waits
        outcome = _send(client, item)
        _record(session, item, outcome, now=now, max_attempts=max_attempts, report=report)
    return report


def _claim(session: Session, item_id: int, now: datetime) -> OutboxItem | None:
    item = session.get(OutboxItem, item_id)
    if item is None:  # removed since it was listed: nothing to deliver
        return None
    session.refresh(item)
    if item.status != OutboxStatus.PENDING or item.next_attempt_at > now:
        return None
    older = session.exec(
        select(OutboxItem.id)
        .where(
            OutboxItem.source == item.source,
            OutboxItem.resource_type == item.resource_type,
            OutboxItem.fhir_id == item.fhir_id,
            col(OutboxItem.status).in_([OutboxStatus.PENDING, OutboxStatus.STUCK]),
            col(OutboxItem.id) < item.id,
        )
        .limit(1)
    ).first()
    if older is not None:
        return None
    # Compare-and-set on the attempt count: of two deliverers, exactly one moves it.
    claimed = session.exec(
        update(OutboxItem)
        .where(
            col(OutboxItem.id) == item.id,
            col(OutboxItem.status) == OutboxStatus.PENDING,
            col(OutboxItem.attempts) == item.attempts,
        )
        .values(attempts=item.attempts + 1, next_attempt_at=now + LEASE)
    )
    session.commit()
    if claimed.rowcount != 1:
        return None
    session.refresh(item)
    return item


@dataclass
class _Outcome:
    ok: bool
    retry: bool = True
    error: str | None = None


def _send(client: FhirClient, item: OutboxItem) -> _Outcome:
    try:
        response = client.request(
            "PUT",
            f"{item.resource_type}/{item.fhir_id}",
            content=item.payload.encode("utf-8"),
            headers={"Content-Type": FHIR_JSON},
        )
    except (RetryableError, EhrUnreachable) as error:
        return _Outcome(ok=False, error=f"The EHR did not answer: {error}")
    except AuthError as error:
        return _Outcome(ok=False, error=f"The EHR refused our credentials: {error}")
    except Exception as error:  # a bad item must not stop the others; it is retried and shown
        return _Outcome(ok=False, error=f"{type(error).__name__}: {error}")
    if response.status_code < 300:
        return _Outcome(ok=True)
    detail = f"HTTP {response.status_code}: {response.text[:400]}"
    # 408/409/412/423 can pass (a busy or locking server); others mean the resource is refused.
    retry = response.status_code in (408, 409, 412, 423)
    return _Outcome(ok=False, retry=retry, error=detail)


def _record(
    session: Session,
    item: OutboxItem,
    outcome: _Outcome,
    *,
    now: datetime,
    max_attempts: int,
    report: DeliveryReport,
) -> None:
    # Only an item still pending is touched: a newer change may have superseded it meanwhile.
    where = (col(OutboxItem.id) == item.id, col(OutboxItem.status) == OutboxStatus.PENDING)
    values: dict[str, Any]
    if outcome.ok:
        values = {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
        report.sent += 1
    elif outcome.retry and item.attempts < max_attempts:
        values = {"next_attempt_at": now + backoff(item.attempts), "last_error": outcome.error}
        report.failed += 1
    else:
        values = {"status": OutboxStatus.STUCK, "last_error": outcome.error}
        report.stuck += 1
    values["last_error"] = values["last_error"][:1000] if values["last_error"] else None
    session.exec(update(OutboxItem).where(*where).values(**values))
    session.commit()
