"""TOTP multi-factor authentication (authenticator apps) and single-use recovery codes."""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from db.models import STAFF_ROLES, MfaRecoveryCode, User, saved_id
from portal.config import get_settings
from portal.errors import InvalidInput, NotAllowed
from portal.passwords import verify_password
from portal.services import audit
from portal.services import security_events as events
from portal.services.login import is_locked, register_failure
from portal.services.rows import rows_changed

RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def new_secret() -> str:
    """A fresh 160-bit TOTP secret in base32, from ``secrets`` (not pyotp's helper)."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.username, issuer_name=get_settings().clinic_name
    )


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step whose code this is, or None. One step either side tolerates a phone
    clock that is a little off."""
    totp = pyotp.TOTP(secret)
    here = totp.timecode(now)
    for step in (here - 1, here, here + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int, *, session: Session) -> bool:
    """Record the step as used, atomically: a code, or any older one, is accepted only once,
    even when two sign-ins race with the same code."""
    claimed = session.execute(
        update(User)
        .where(
            col(User.id) == user.id,
            or_(col(User.mfa_last_step).is_(None), col(User.mfa_last_step) < step),
        )
        .values(mfa_last_step=step)
    )
    session.expire(user, ["mfa_last_step"])
    return rows_changed(claimed) == 1


def _normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _hash_code(code: str) -> str:
    # Recovery codes carry 50 random bits, so a plain SHA-256 is enough to hide them at rest.
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(user: User, *, session: Session, now: datetime) -> list[str]:
    for old in session.exec(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id)):
        session.delete(old)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(
            MfaRecoveryCode(user_id=saved_id(user), code_hash=_hash_code(code), created_at=now)
        )
    return codes


def enable(user: User, secret: str, code: str, *, session: Session, now: datetime) -> list[str]:
    """Turn MFA on once the first code from the app matches; returns new recovery codes."""
    step = _totp_step(secret, _normalize(code), now)
    if step is None:
        raise InvalidInput("That code does not match. Check the time on your phone and try again.")
    user.mfa_secret = secret
    user.mfa_enabled_at = now
    user.mfa_last_step = step  # the enrolment code cannot sign in again
    session.add(user)
    codes = _replace_recovery_codes(user, session=session, now=now)
    audit.record(session=session, actor=user, category=events.MFA, action="enrol", now=now)
    session.commit()
    return codes


def regenerate_recovery_codes(
    user: User, *, proof: str | None, session: Session, now: datetime
) -> list[str]:
    """New recovery codes (the old ones stop working), after the current password or a code."""
    if user.mfa_enabled_at is None:
        raise InvalidInput("Turn on two-step sign-in first.")
    confirm_identity(user, proof, session=session, now=now, what="new recovery codes")
    codes = _replace_recovery_codes(user, session=session, now=now)
    audit.record(session=session, actor=user, category=events.MFA, action="new codes", now=now)
    session.commit()
    return codes


def disable(user: User, *, proof: str | None, session: Session, now: datetime) -> None:
    """Patients may turn MFA off (after the current password or a code); staff may not while the
    clinic requires it."""
    if user.role in STAFF_ROLES and get_settings().mfa_required_for_staff:
        raise NotAllowed("Two-step sign-in is required for clinic staff.")
    confirm_identity(user, proof, session=session, now=now, what="two-step sign-in off")
    user.mfa_secret = None
    user.mfa_enabled_at = None
    session.add(user)
    for old in session.exec(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id)):
        session.delete(old)
    audit.record(session=session, actor=user, category=events.MFA, action="disable", now=now)
    session.commit()


def check_code(user: User, code: str, *, session: Session, now: datetime) -> bool:
    """Accept an app code or an unused recovery code; a miss counts toward the lockout."""
    normalized = _normalize(code)
    method = None
    step = _totp_step(user.mfa_secret, normalized, now) if user.mfa_secret else None
    if step is not None and normalized.isdigit() and _claim_step(user, step, session=session):
        method = "authenticator code"
    elif normalized:
        spare = session.exec(
            select(MfaRecoveryCode)
            .where(
                MfaRecoveryCode.user_id == user.id,
                MfaRecoveryCode.code_hash == _hash_code(normalized),
                col(MfaRecoveryCode.used_at).is_(None),
            )
            .with_for_update()
        ).first()
        if spare is not None:
            spare.used_at = now
            session.add(spare)
            method = "recovery code"
    if method is None:
        register_failure(user, session=session, now=now, what="wrong MFA code")
        session.commit()
        return False
    audit.record(
        session=session, actor=user, category=events.MFA, action="verify", detail=method, now=now
    )
    session.commit()
    return True


CONFIRM_WRONG = "That password or code is not right. Please enter your current password."
CONFIRM_WAIT = "Too many wrong tries. Please wait a minute and try again."


def confirm_identity(
    user: User, proof: str | None, *, session: Session, now: datetime, what: str
) -> None:
    """Step-up for a security change in a signed-in session (two-step sign-in off, new recovery
    codes, a new phone or email): the current password, or a current authenticator or recovery
    code. Otherwise ``InvalidInput``; the miss counts like a wrong password and is audited, so a
    session left open or stolen cannot become a lasting way in."""
    proof = (proof or "").strip()
    if is_locked(user, now):
        raise InvalidInput(CONFIRM_WAIT)
    if proof and verify_password(proof, user.password_hash):
        audit.record(
            session=session, actor=user, category=events.MFA, action="confirm", detail=what, now=now
        )
        return
    if (
        proof
        and user.mfa_enabled_at is not None
        and check_code(user, proof, session=session, now=now)
    ):
        return  # check_code audited the code it accepted
    if user.mfa_enabled_at is None or not proof:  # check_code already counted its own miss
        register_failure(user, session=session, now=now, what=f"wrong password to confirm {what}")
        session.commit()
    raise InvalidInput(CONFIRM_WRONG)
