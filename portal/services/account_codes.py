"""Codes staff give a patient to activate a portal account, or to reset a forgotten password.

Codes are random (``secrets``), single use (consumed with one conditional UPDATE, so two
simultaneous redemptions cannot both win), expire, and only their SHA-256 is stored.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.models import AccountCode, Patient, Role, User
from portal.config import get_settings
from portal.errors import InvalidInput, NotFound
from portal.password_policy import password_problems
from portal.passwords import hash_password
from portal.permissions import Action
from portal.services import audit, sessions
from portal.services import login_throttle as throttle
from portal.services import security_events as events
from portal.services.permissions import require_permission
from portal.services.rows import rows_changed

ACTIVATION = "activation"
RESET = "reset"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes; 60 random bits
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
BAD_CODE = "That code is not valid, was already used, or has expired. Ask the clinic for a new one."


def _normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def _patient_account(patient_id: int, *, session: Session) -> User | None:
    """The patient's own portal account, unchecked: callers have checked the actor."""
    return session.exec(
        select(User).where(User.patient_id == patient_id, User.role == Role.PATIENT)
    ).first()


def next_code_purpose(staff: User, patient_id: int, *, session: Session, now: datetime) -> str:
    """Which code issue_code would give this patient now: RESET when they have an account,
    else ACTIVATION (for the button's label). Only for those who may issue codes."""
    require_permission(
        staff, Action.ISSUE_ACCOUNT_CODES, session=session, now=now, patient_id=patient_id
    )
    return RESET if _patient_account(patient_id, session=session) is not None else ACTIVATION


def _issue(
    staff: User,
    patient_id: int,
    purpose: str,
    user: User | None,
    *,
    session: Session,
    now: datetime,
) -> str:
    # A new code replaces any earlier unused one of the same kind for this patient.
    session.execute(
        update(AccountCode)
        .where(
            col(AccountCode.patient_id) == patient_id,
            col(AccountCode.purpose) == purpose,
            col(AccountCode.used_at).is_(None),
        )
        .values(expires_at=now)
    )
    code = _new_code()
    hours = get_settings().account_code_hours
    session.add(
        AccountCode(
            code_hash=_hash(code),
            purpose=purpose,
            patient_id=patient_id,
            user_id=user.id if user else None,
            issued_by_user_id=staff.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    audit.record(
        session=session,
        actor=staff,
        category=events.ACCOUNT_CODE,
        action=f"issue {purpose} code",
        patient_id=patient_id,
        now=now,
    )
    session.commit()
    return code


def issue_code(staff: User, patient_id: int, *, session: Session, now: datetime) -> tuple[str, str]:
    """Issue an activation code (no account yet) or a reset code; returns (purpose, code)."""
    require_permission(
        staff, Action.ISSUE_ACCOUNT_CODES, session=session, now=now, patient_id=patient_id
    )
    if session.get(Patient, patient_id) is None:
        raise NotFound("No such patient.")
    account = _patient_account(patient_id, session=session)
    purpose = RESET if account is not None else ACTIVATION
    return purpose, _issue(staff, patient_id, purpose, account, session=session, now=now)


def issue_user_reset_code(admin: User, account: User, *, session: Session, now: datetime) -> str:
    """A reset code tied to an account rather than a patient (staff accounts; administrators).

    The person redeems it on the sign-in screen like a patient's reset code and chooses a password.
    """
    require_permission(admin, Action.MANAGE_USERS, session=session, now=now)
    session.execute(
        update(AccountCode)
        .where(
            col(AccountCode.user_id) == account.id,
            col(AccountCode.purpose) == RESET,
            col(AccountCode.used_at).is_(None),
        )
        .values(expires_at=now)
    )
    code = _new_code()
    session.add(
        AccountCode(
            code_hash=_hash(code),
            purpose=RESET,
            patient_id=account.patient_id if account.role == Role.PATIENT else None,
            user_id=account.id,
            issued_by_user_id=admin.id,
            created_at=now,
            expires_at=now + timedelta(hours=get_settings().account_code_hours),
        )
    )
    audit.record(
        session=session,
        actor=admin,
        category=events.ACCOUNT_CODE,
        action=f"issue {RESET} code",
        detail=f"account {account.username}",
        now=now,
    )
    session.commit()
    return code


def code_purpose(code: str, *, session: Session, now: datetime) -> str | None:
    """What a still-valid code is for (the form asks for a username only on activation)."""
    row = session.exec(select(AccountCode).where(AccountCode.code_hash == _hash(code))).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row.purpose


def redeem(
    code: str, *, username: str, password: str, confirm: str, session: Session, now: datetime
) -> User:
    """Use a code: create the patient's account, or set a new password. Raises ``InvalidInput``."""
    row = session.exec(select(AccountCode).where(AccountCode.code_hash == _hash(code))).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        audit.record(
            session=session,
            actor=None,
            category=events.ACCOUNT_CODE,
            action="redeem code",
            outcome=audit.Outcome.FAILURE,
            detail="unknown, used or expired code",
            now=now,
        )
        session.commit()
        raise InvalidInput(BAD_CODE)
    account = session.get(User, row.user_id) if row.purpose == RESET and row.user_id else None
    if row.purpose == RESET and account is None:
        raise InvalidInput(BAD_CODE)
    username = account.username if account else (username or "").strip().lower()
    if account is None and not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "Choose a username of 3 to 64 characters: lower-case letters, digits, dot, dash or "
            "underscore, starting with a letter or digit."
        )
    problems = password_problems(password, username=username, confirm=confirm)
    if problems:
        raise InvalidInput(" ".join(problems))
    if account is None and session.exec(select(User.id).where(User.username == username)).first():
        raise InvalidInput("That username is taken; please choose another.")
    consumed = session.execute(
        update(AccountCode)
        .where(col(AccountCode.id) == row.id, col(AccountCode.used_at).is_(None))
        .values(used_at=now)
    )
    if rows_changed(consumed) != 1:
        session.rollback()
        raise InvalidInput(BAD_CODE)
    if account is None:
        patient = session.get(Patient, row.patient_id)
        account = User(
            username=username,
            password_hash=hash_password(password),
            role=Role.PATIENT,
            display_name=patient.display_name if patient else username,
            patient_id=row.patient_id,
            created_at=now,
        )
        session.add(account)
        session.flush()
        action = "activate account"
    else:
        account.password_hash = hash_password(password)
        throttle.forget_account_failures(account)
        session.add(account)
        sessions.revoke_all(account, session=session, now=now, reason="password reset")
        action = "reset password"
    audit.record(
        session=session,
        actor=account,
        category=events.ACCOUNT_CODE,
        action=action,
        patient_id=row.patient_id,
        now=now,
    )
    session.commit()
    return account
