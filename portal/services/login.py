"""Password sign-in with a lockout kept in the database (so it holds across replicas and restarts).

Unknown name, disabled account, wrong password and locked account all raise the same
``LoginFailed``, so the form cannot be used to find out which usernames exist.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlmodel import Session, select

from db.models import STAFF_ROLES, User
from portal.config import get_settings
from portal.errors import PortalError
from portal.passwords import hash_password, verify_password
from portal.services import audit
from portal.services import security_events as events


@lru_cache
def _dummy_hash() -> str:
    """Checked when the name is unknown, so a miss costs the same time as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


class LoginFailed(PortalError):
    user_message = (
        "That username and password do not match, or the account is paused for a while after "
        "too many attempts. Please try again later, or call the clinic."
    )


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
    return user.locked_until is not None and user.locked_until > now


def register_failure(user: User, *, session: Session, now: datetime, what: str) -> None:
    """Count a failed password or MFA code; lock the account at the threshold (caller commits)."""
    settings = get_settings()
    user.failed_login_count += 1
    audit.record(
        session=session,
        actor=user,
        category=events.LOGIN,
        action="login",
        outcome=audit.Outcome.FAILURE,
        detail=what,
        now=now,
    )
    if user.failed_login_count >= settings.lockout_threshold:
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        user.failed_login_count = 0
        audit.record(
            session=session,
            actor=user,
            category=events.LOCKOUT,
            action="lock",
            outcome=audit.Outcome.DENIED,
            detail=f"locked for {settings.lockout_minutes:g} minutes",
            now=now,
        )
    session.add(user)


def _locked_user(username: str, *, session: Session) -> User | None:
    # FOR UPDATE: two wrong passwords at once on PostgreSQL must both count.
    return session.exec(select(User).where(User.username == username).with_for_update()).first()


def check_password(username: str, password: str, *, session: Session, now: datetime):
    """Check name and password; return ``PasswordAccepted`` or raise ``LoginFailed`` (audited)."""
    user = _locked_user((username or "").strip(), session=session) if username else None
    if user is None or not user.active:
        verify_password(password or "", _dummy_hash())
        # The typed name is not stored: people type passwords into the name field by mistake.
        audit.record(
            session=session,
            actor=None,
            category=events.LOGIN,
            action="login",
            outcome=audit.Outcome.FAILURE,
            detail="unknown or disabled account",
            now=now,
        )
        session.commit()
        raise LoginFailed()
    if is_locked(user, now):
        audit.record(
            session=session,
            actor=user,
            category=events.LOGIN,
            action="login",
            outcome=audit.Outcome.DENIED,
            detail="account locked",
            now=now,
        )
        session.commit()
        raise LoginFailed()
    if not verify_password(password or "", user.password_hash):
        register_failure(user, session=session, now=now, what="wrong password")
        session.commit()
        raise LoginFailed()
    user.failed_login_count = 0
    user.locked_until = None
    session.add(user)
    session.commit()
    return PasswordAccepted(user=user, next_step=mfa_step_for(user))
