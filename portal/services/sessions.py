"""Server-side sessions. The browser cookie holds a signed random token; everything that decides
whether it still works (logout, revocation, idle time-out, absolute lifetime) lives in the database,
so a copied cookie stops working the moment the session ends."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import update
from sqlmodel import Session, col, select

from db.models import AuthSession, User, saved_id
from portal.config import get_settings
from portal.errors import PortalError
from portal.services import audit
from portal.services import security_events as events
from portal.services.rows import rows_changed

MIN_COOKIE_KEY_BYTES = 32
# Writing last_seen_at on every rerun would be one UPDATE per click (a write lock on SQLite);
# once a minute bounds it at a minute's error on a 15-minute idle clock (issue 17).
TOUCH_EVERY = timedelta(seconds=60)

END_MESSAGES = {
    "idle": "You were signed out after a period without activity. Please sign in again.",
    "expired": "Your sign-in has expired. Please sign in again.",
    "revoked": "You were signed out (signed out elsewhere or password changed).",
    "signed_out": "You have signed out.",
    "disabled": "This account is not active. Please call the clinic.",
    "unknown": "Please sign in.",
}


class SessionEnded(PortalError):
    def __init__(self, reason: str):
        super().__init__(END_MESSAGES.get(reason, END_MESSAGES["unknown"]))
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_cookie_key(key: str) -> str:
    if len(key.encode()) < MIN_COOKIE_KEY_BYTES:
        raise ValueError(f"COOKIE_KEY must be at least {MIN_COOKIE_KEY_BYTES} bytes of randomness.")
    return key


def encode_cookie(token: str, *, key: str, now: datetime) -> str:
    """Sign the token so a forged cookie is refused before any database look-up."""
    expires = now + timedelta(hours=get_settings().session_absolute_hours)
    payload = {"sid": token, "iat": int(now.timestamp()), "exp": int(expires.timestamp())}
    return jwt.encode(payload, check_cookie_key(key), algorithm="HS256")


def cookie_expires(value: str, *, key: str) -> datetime:
    """When a cookie from ``encode_cookie`` expires (the browser is told the same time)."""
    payload = jwt.decode(value, check_cookie_key(key), algorithms=["HS256"])
    return datetime.fromtimestamp(payload["exp"], UTC)


def decode_cookie(value: str | None, *, key: str) -> str | None:
    """The session token in a cookie, or None when it is missing, forged or expired."""
    if not value:
        return None
    try:
        payload = jwt.decode(value, check_cookie_key(key), algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    sid = payload.get("sid")
    return sid if isinstance(sid, str) else None


def start(user: User, *, session: Session, now: datetime, method: str) -> str:
    """Open a session after every sign-in step passed; returns the secret token (audited)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=_hash(token), user_id=saved_id(user), started_at=now, last_seen_at=now
        )
    )
    audit.record(
        session=session, actor=user, category=events.LOGIN, action="login", detail=method, now=now
    )
    session.commit()
    return token


def _end(
    row: AuthSession, user: User | None, *, session: Session, now: datetime, reason: str
) -> None:
    row.ended_at = now
    row.end_reason = reason
    session.add(row)
    audit.record(
        session=session,
        actor=user,
        category=events.LOGOUT if reason == "signed_out" else events.SESSION,
        action="logout" if reason == "signed_out" else "end session",
        detail=reason,
        now=now,
    )
    session.commit()


def current_user(token: str | None, *, session: Session, now: datetime) -> User:
    """The user of a live session (marking it active), or raise ``SessionEnded`` with why."""
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == _hash(token or ""))
    ).first()
    if row is None:
        raise SessionEnded("unknown")
    if row.ended_at is not None:
        raise SessionEnded(row.end_reason if row.end_reason in END_MESSAGES else "revoked")
    settings = get_settings()
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        _end(row, user, session=session, now=now, reason="disabled")
        raise SessionEnded("disabled")
    reason = None
    if user.sessions_valid_after is not None and row.started_at < user.sessions_valid_after:
        reason = "revoked"
    elif now - row.started_at > timedelta(hours=settings.session_absolute_hours):
        reason = "expired"
    elif now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        reason = "idle"
    if reason:
        _end(row, user, session=session, now=now, reason=reason)
        raise SessionEnded(reason)
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        session.commit()
    return user


def seconds_left(token: str | None, *, session: Session, now: datetime) -> float:
    """Seconds until idle time-out, without counting this look as activity."""
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == _hash(token or ""))
    ).first()
    if row is None or row.ended_at is not None:
        return 0.0
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return (row.last_seen_at + idle - now).total_seconds()


def sign_out(token: str | None, *, session: Session, now: datetime) -> None:
    """End this session and revoke every earlier one of the user (a copied cookie dies too)."""
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == _hash(token or ""))
    ).first()
    if row is None or row.ended_at is not None:
        return
    user = session.get(User, row.user_id)
    if user is not None:
        user.sessions_valid_after = now
        session.add(user)
    _end(row, user, session=session, now=now, reason="signed_out")


def renew(token: str | None, user: User, *, session: Session, now: datetime) -> str:
    """End this browser's session and start a fresh one (after a password change revoked all)."""
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == _hash(token or ""))
    ).first()
    if row is not None and row.ended_at is None:
        _end(row, user, session=session, now=now, reason="revoked")
    return start(user, session=session, now=now, method="new session after password change")


def end_all(user: User, *, session: Session, now: datetime) -> int:
    """Refuse every session started before now and close the open ones (an admin's action; the
    caller audits it); returns how many were open."""
    user.sessions_valid_after = now
    session.add(user)
    closed = session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user.id, col(AuthSession.ended_at).is_(None))
        .values(ended_at=now, end_reason="revoked")
    )
    return rows_changed(closed)


def revoke_all(user: User, *, session: Session, now: datetime, reason: str) -> None:
    """Refuse every session the user started before now (password change, role change, reset)."""
    user.sessions_valid_after = now
    session.add(user)
    audit.record(
        session=session,
        actor=user,
        category=events.SESSION,
        action="revoke",
        detail=reason,
        now=now,
    )
