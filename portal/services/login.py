"""Password sign-in, throttled in the database (portal/services/login_throttle.py: growing waits per
account and per device, so they hold across replicas and restarts, and a stranger cannot lock the
owner out).

Unknown name, disabled account, wrong password and locked account all raise the same
``LoginFailed``, so the form cannot be used to find out which usernames exist.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NoReturn

from sqlmodel import Session, select

from db.models import STAFF_ROLES, User
from portal.config import get_settings
from portal.errors import PortalError
from portal.passwords import hash_password, verify_password
from portal.services import audit
from portal.services import login_throttle as throttle


@lru_cache
def _dummy_hash() -> str:
    """Checked when the name is unknown, so a miss costs the same time as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


class LoginFailed(PortalError):
    user_message = (
        "That username and password do not match, or the account is paused for up to a minute "
        "after many attempts. Please try again, or call the clinic."
    )


class DeviceWaiting(LoginFailed):
    """This device failed too often: it must wait before any account is tried again."""

    def __init__(self, seconds: float):
        wait = f"{seconds:.0f} seconds" if seconds < 120 else f"{seconds / 60:.0f} minutes"
        super().__init__(
            f"Too many sign-in attempts from this device. Please wait {wait} and try again."
        )
        self.seconds = seconds


@dataclass(frozen=True)
class PasswordAccepted:
    """The password step passed; ``next_step`` says what must follow before a session starts."""

    user: User
    next_step: str  # "done", "mfa" (enter a code) or "enrol" (staff must set MFA up first)


def mfa_step_for(user: User) -> str:
    if user.mfa_enabled_at is not None:
        return "mfa"
    if user.role in STAFF_ROLES and get_settings().mfa_required_for_staff:
        return "enrol"
    return "done"


def is_locked(user: User, now: datetime) -> bool:
    """The account takes no attempt now (a back-off wait, or the hard limit reached)."""
    return throttle.account_waits(user, now)


def is_locked_until_reset(user: User, now: datetime) -> bool:
    """The hard limit: no password or code until a clinic reset or an admin unlock."""
    cap = timedelta(seconds=get_settings().login_account_max_wait_seconds)
    return user.locked_until is not None and user.locked_until > now + cap


def register_failure(user: User, *, session: Session, now: datetime, what: str) -> None:
    """Count a failed password or MFA code against the account (caller commits)."""
    throttle.record_account_failure(user, session=session, now=now, what=what)


def check_device(client_key: str | None, *, session: Session, now: datetime) -> None:
    """Before any password is checked: raise ``DeviceWaiting`` while this device must wait."""
    seconds = throttle.client_wait(client_key, session=session, now=now)
    if seconds > 0:
        throttle.audit_sign_in_refused(
            None,
            audit.Outcome.DENIED,
            "device waiting after many failures",
            session=session,
            now=now,
        )
        session.commit()
        raise DeviceWaiting(seconds)


def normalize_username(username: str | None) -> str:
    """Usernames are stored lower case; streamlit-authenticator lowercases what is typed too."""
    return (username or "").strip().lower()


def _locked_user(username: str, *, session: Session) -> User | None:
    # FOR UPDATE: two wrong passwords at once on PostgreSQL must both count.
    return session.exec(select(User).where(User.username == username).with_for_update()).first()


def credentials_entry(
    username: str | None, *, session: Session, now: datetime
) -> dict[str, Any] | None:
    """The one account being tried, as a streamlit-authenticator credentials entry.

    None for an unknown, disabled or locked account, so its password is never even checked: the
    lockout comes before the password. Only this row's hash is read, never the whole table.
    """
    name = normalize_username(username)
    user = session.exec(select(User).where(User.username == name)).first() if name else None
    if user is None or not user.active or is_locked(user, now):
        return None
    return {
        "name": user.display_name or user.username,
        "email": user.email or "",
        "password": user.password_hash,
        "roles": [str(user.role)],
    }


def password_failed(
    username: str | None,
    password: str | None,
    *,
    session: Session,
    now: datetime,
    client_key: str | None = None,
) -> NoReturn:
    """Record a refused password (audit, the account's and the device's waits) and raise
    ``LoginFailed``.

    ``password`` (may be None) is only hashed against a dummy, so an unknown or locked name takes as
    long as a wrong password.
    """
    name = normalize_username(username)
    user = _locked_user(name, session=session) if name else None
    if user is None or not user.active or is_locked(user, now):
        # The package checked no hash for these; spend the same time so they cannot be told apart.
        verify_password(password or "", _dummy_hash())
    if user is None or not user.active:
        # The typed name is not stored: people type passwords into the name field by mistake.
        throttle.audit_sign_in_refused(
            None, audit.Outcome.FAILURE, "unknown or disabled account", session=session, now=now
        )
    elif is_locked(user, now):
        throttle.audit_sign_in_refused(
            user, audit.Outcome.DENIED, "account locked", session=session, now=now
        )
    else:
        register_failure(user, session=session, now=now, what="wrong password")
    throttle.record_client_failure(client_key, session=session, now=now)
    session.commit()
    raise LoginFailed()


def password_passed(username: str | None, *, session: Session, now: datetime) -> PasswordAccepted:
    """After the password matched: clear the failure count and say which step comes next.

    Checks again that the account is active and not locked (it may have changed meanwhile).
    """
    user = _locked_user(normalize_username(username), session=session)
    if user is None or not user.active or is_locked(user, now):
        session.rollback()
        raise LoginFailed()
    throttle.forget_account_failures(user)
    session.add(user)
    session.commit()
    return PasswordAccepted(user=user, next_step=mfa_step_for(user))


def check_password(
    username: str,
    password: str,
    *,
    session: Session,
    now: datetime,
    client_key: str | None = None,
) -> PasswordAccepted:
    """Check name and password; return ``PasswordAccepted`` or raise ``LoginFailed`` (audited).

    The sign-in form lets streamlit-authenticator compare the hash from ``credentials_entry``;
    this is the same decision in one call, for scripts and tests.
    """
    check_device(client_key, session=session, now=now)
    entry = credentials_entry(username, session=session, now=now)
    if entry is None or not verify_password(password or "", entry["password"]):
        password_failed(username, password, session=session, now=now, client_key=client_key)
    return password_passed(username, session=session, now=now)
