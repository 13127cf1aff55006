"""Throttling of failed sign-ins: growing waits instead of a lockout that a stranger could cause.

Two counters, both in the database so they hold across replicas and restarts:

- Per account (``portal_user.failed_login_count`` and ``locked_until``, the time of the next
  allowed attempt): the first ``login_free_attempts`` failures in a row cost nothing; after that
  each failure doubles the wait (1 s, 2 s, 4 s ...) up to ``login_account_max_wait_seconds``. A
  guesser gets at most about one try a minute; the owner waits at most a minute. After
  ``login_hard_limit`` failures in a row (100, the most NIST SP 800-63B 5.2.2 allows) the account
  takes no password until it is reset with a clinic code or unlocked by an admin; at the capped
  rate that takes a stranger well over an hour, every failure in the audit log.
- Per device (client address, ``clientthrottle``): the same doubling, capped at
  ``login_client_max_wait_seconds``, whatever account is tried, so one device guessing many
  accounts slows itself down; forgotten an hour after its last failure.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from db.models import ClientThrottle, User
from portal.config import get_settings
from portal.services import audit
from portal.services import security_events as events

# A device's failures are forgotten this long after the last one.
CLIENT_MEMORY = timedelta(hours=1)
# "Until reset": far enough to read as indefinite, near enough for every database's timestamp.
UNTIL_RESET = timedelta(days=365 * 100)


@dataclass(frozen=True)
class Wait:
    """How long before the next attempt may be made, and whose counter says so."""

    seconds: float
    by_client: bool


def _backoff(failures: int, *, free: int, cap: float) -> timedelta:
    """No wait for the free attempts, then 1 s, 2 s, 4 s ... up to ``cap`` seconds."""
    extra = failures - free
    if extra < 0:
        return timedelta(0)
    return timedelta(seconds=min(cap, 2.0 ** min(extra, 30)))


def client_wait(client_key: str | None, *, session: Session, now: datetime) -> float:
    """Seconds this device must wait before its next sign-in attempt (0: it may try now)."""
    row = session.get(ClientThrottle, client_key) if client_key else None
    if row is None or row.next_attempt_at <= now:
        return 0.0
    return (row.next_attempt_at - now).total_seconds()


def account_waits(user: User, now: datetime) -> bool:
    """True while the account takes no attempt (a back-off wait, or the hard limit)."""
    return user.locked_until is not None and user.locked_until > now


def record_client_failure(client_key: str | None, *, session: Session, now: datetime) -> None:
    """Count a failure against the device (caller commits)."""
    if not client_key:
        return
    settings = get_settings()
    row = session.get(ClientThrottle, client_key, with_for_update=True)
    if row is None:
        row = ClientThrottle(client_key=client_key, last_failure_at=now, next_attempt_at=now)
    elif now - row.last_failure_at > CLIENT_MEMORY:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    row.next_attempt_at = now + _backoff(
        row.failures,
        free=settings.login_free_attempts * 2,  # a family tablet shares one address
        cap=settings.login_client_max_wait_seconds,
    )
    session.add(row)


def audit_sign_in_refused(
    actor: User | None, outcome: str, detail: str, *, session: Session, now: datetime
) -> None:
    """A refused sign-in in the audit trail (``actor`` None when no active account is known;
    the typed name is never stored). The caller commits."""
    audit.record(
        session=session,
        actor=actor,
        category=events.LOGIN,
        action="login",
        outcome=outcome,
        detail=detail,
        now=now,
    )


def record_account_failure(user: User, *, session: Session, now: datetime, what: str) -> None:
    """Count a failed password or code against the account and set its wait (caller commits)."""
    settings = get_settings()
    user.failed_login_count += 1
    audit_sign_in_refused(user, audit.Outcome.FAILURE, what, session=session, now=now)
    if user.failed_login_count >= settings.login_hard_limit:
        user.locked_until = now + UNTIL_RESET
        audit.record(
            session=session,
            actor=user,
            category=events.LOCKOUT,
            action="lock",
            outcome=audit.Outcome.DENIED,
            detail=f"{user.failed_login_count} failed sign-ins in a row: locked until reset",
            now=now,
        )
    else:
        wait = _backoff(
            user.failed_login_count,
            free=settings.login_free_attempts,
            cap=settings.login_account_max_wait_seconds,
        )
        user.locked_until = now + wait if wait else None
    session.add(user)


def forget_account_failures(user: User) -> None:
    """After a full sign-in or a reset (caller adds and commits)."""
    user.failed_login_count = 0
    user.locked_until = None
