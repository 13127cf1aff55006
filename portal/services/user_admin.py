"""Users and roles (administrators only).

Every action is a security event in the audit trail: who did it, to which account, what changed,
and the outcome. A refusal (wrong role, or a rule such as "the last administrator stays") is
audited as denied and committed at once, so it survives the caller's rollback.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.models import STAFF_ROLES, AuthSession, MfaRecoveryCode, Patient, Role, User, saved_id
from portal.errors import InvalidInput, NotAllowed, NotFound
from portal.passwords import hash_password
from portal.permissions import Action
from portal.services import account_codes, audit, sessions
from portal.services import security_events as events
from portal.services.permissions import require_permission

ROLE_LABELS = {
    Role.PATIENT: "Patient",
    Role.PROXY: "Proxy (family member or caregiver)",
    Role.FRONT_DESK: "Front desk",
    Role.NURSE: "Nurse",
    Role.CLINICIAN: "Clinician",
    Role.ADMIN: "Administrator",
}
MAX_ROWS = 200

LINKED_TO_PATIENT = (
    "This account belongs to a patient (it is linked to a patient record), so it cannot be given "
    "a staff role. Create a separate staff account instead."
)
STAFF_STAY_STAFF = "A staff account can only be given another staff role."
OWN_ADMIN_ROLE = "You cannot remove your own administrator role. Ask another administrator."
LAST_ADMIN = "This is the last active administrator; make someone else an administrator first."
OWN_ACCOUNT = "You cannot deactivate your own account."


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: Role
    patient_id: int | None
    patient_name: str | None
    active: bool
    mfa_enrolled: bool
    locked_until: datetime | None
    last_sign_in: datetime | None


def role_label(role: Role | str) -> str:
    return ROLE_LABELS.get(Role(role), str(role))


def require_admin(admin: User, *, session: Session, now: datetime) -> None:
    """Refuse (audited as denied) unless ``admin`` may manage users now (the database's role and
    active flag decide, so an administrator demoted a moment ago can no longer act)."""
    require_permission(
        admin, Action.MANAGE_USERS, session=session, now=now, category=events.USER_ADMIN
    )


@dataclass(frozen=True)
class _AdminAction:
    """One administrator action on an account, and the words its audit entries use for it."""

    admin: User
    category: str
    action: str
    session: Session
    now: datetime

    def target(self, user_id: int) -> User:
        """The account acted on, locked for the action (the admin is checked before and after)."""
        session = self.session
        require_admin(self.admin, session=session, now=self.now)
        # Lock every administrator row first, in id order: two administrators acting on each
        # other at the same moment wait for one another (no deadlock), and the second then sees
        # the first's change, so "the last active administrator stays" holds under a race too
        # (PostgreSQL).
        session.exec(
            select(User.id).where(User.role == Role.ADMIN).order_by(col(User.id)).with_for_update()
        ).all()
        require_admin(self.admin, session=session, now=self.now)  # still one, after the wait?
        target = session.get(User, user_id, with_for_update=True, populate_existing=True)
        if target is None:
            raise NotFound("We could not find that account.")
        return target

    def refuse(self, target: User, message: str) -> NoReturn:
        """Refuse by a rule ("the last administrator stays"), audited as denied."""
        audit.record(
            session=self.session,
            actor=self.admin,
            category=self.category,
            action=self.action,
            outcome=audit.Outcome.DENIED,
            detail=f"account {target.username}: {message}",
            now=self.now,
        )
        # The refusal must stay on record even if the caller rolls back.
        self.session.commit()
        raise NotAllowed(message)

    def done(self, target: User, detail: str = "") -> None:
        """Audit the change to ``target`` and commit it."""
        account = f"account {target.username}"
        audit.record(
            session=self.session,
            actor=self.admin,
            category=self.category,
            action=self.action,
            detail=f"{account}: {detail}" if detail else account,
            now=self.now,
        )
        self.session.commit()
        self.session.refresh(target)


def _other_active_admins(target: User, *, session: Session) -> int:
    rows = session.exec(
        select(User.id)
        .where(User.role == Role.ADMIN, col(User.active).is_(True), User.id != target.id)
        .with_for_update()
    ).all()
    return len(rows)


def list_users(admin: User, *, query: str = "", session: Session, now: datetime) -> list[UserRow]:
    """Accounts matching ``query`` (username, name or role), active first, at most MAX_ROWS."""
    require_admin(admin, session=session, now=now)
    last = (
        select(AuthSession.user_id, func.max(AuthSession.started_at).label("last"))
        .group_by(col(AuthSession.user_id))
        .subquery()
    )
    stmt = (
        select(User, Patient, last.c.last)
        .join(Patient, col(Patient.id) == User.patient_id, isouter=True)
        .join(last, last.c.user_id == User.id, isouter=True)
    )
    text = (query or "").strip().lower()
    if text:
        like = f"%{text}%"
        roles = [r for r, label in ROLE_LABELS.items() if text in label.lower() or text in r]
        conditions = [
            func.lower(User.username).like(like),
            func.lower(User.display_name).like(like),
        ]
        if roles:
            conditions.append(col(User.role).in_(roles))
        stmt = stmt.where(or_(*conditions))
    stmt = stmt.order_by(col(User.active).desc(), User.username).limit(MAX_ROWS)
    rows = [
        UserRow(
            id=saved_id(user),
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            patient_id=user.patient_id,
            patient_name=patient.display_name if patient else None,
            active=user.active,
            mfa_enrolled=user.mfa_enabled_at is not None,
            locked_until=user.locked_until
            if user.locked_until and user.locked_until > now
            else None,
            last_sign_in=last_at,
        )
        for user, patient, last_at in session.exec(stmt).all()
    ]
    audit.record(
        session=session,
        actor=admin,
        category=events.USER_ADMIN,
        action="list users",
        detail=f"{len(rows)} accounts" + (" (search)" if text else ""),
        now=now,
    )
    session.commit()
    return rows


def allowed_roles(target: "User | UserRow") -> list[Role]:
    """The roles ``change_role`` can give this account (its own role included)."""
    if target.role in STAFF_ROLES:
        return [r for r in Role if r in STAFF_ROLES]
    if target.patient_id is not None:
        return [Role.PATIENT, Role.PROXY] if target.role == Role.PROXY else [Role.PATIENT]
    return [r for r in Role if r != Role.PATIENT]


def change_role(
    admin: User, user_id: int, new_role: Role | str, *, session: Session, now: datetime
) -> User:
    """Give an account another role; its sessions end so the new role applies at next sign-in."""
    act = _AdminAction(admin, events.ROLE_CHANGE, "change role", session, now)
    target = act.target(user_id)
    try:
        new_role = Role(new_role)
    except ValueError:
        raise InvalidInput("Choose one of the listed roles.") from None
    old_role = Role(target.role)
    if new_role == old_role:
        raise InvalidInput(f"{target.username} already has the role {role_label(new_role)}.")
    rule = None
    if old_role in STAFF_ROLES and new_role not in STAFF_ROLES:
        rule = STAFF_STAY_STAFF
    elif new_role in STAFF_ROLES and target.patient_id is not None:
        rule = LINKED_TO_PATIENT
    elif new_role == Role.PATIENT and target.patient_id is None:
        rule = "A patient account needs a linked patient record; this account has none."
    elif old_role == Role.ADMIN and target.id == admin.id:
        rule = OWN_ADMIN_ROLE
    elif (
        old_role == Role.ADMIN
        and target.active
        and not _other_active_admins(target, session=session)
    ):
        rule = LAST_ADMIN
    if rule:
        act.refuse(target, rule)
    target.role = new_role
    ended = sessions.end_all(target, session=session, now=now)
    act.done(target, f"{old_role} -> {new_role}; {ended} open sessions ended")
    return target


def set_active(admin: User, user_id: int, active: bool, *, session: Session, now: datetime) -> User:
    """Deactivate (signs the person out everywhere) or reactivate an account."""
    action = "reactivate account" if active else "deactivate account"
    act = _AdminAction(admin, events.USER_ADMIN, action, session, now)
    target = act.target(user_id)
    if target.active == active:
        state = "active" if active else "deactivated"
        raise InvalidInput(f"{target.username} is already {state}.")
    if not active:
        rule = None
        if target.id == admin.id:
            rule = OWN_ACCOUNT
        elif target.role == Role.ADMIN and not _other_active_admins(target, session=session):
            rule = LAST_ADMIN
        if rule:
            act.refuse(target, rule)
    target.active = active
    detail = ""
    if active:
        target.failed_login_count = 0
        target.locked_until = None
    else:
        detail = f"{sessions.end_all(target, session=session, now=now)} open sessions ended"
    session.add(target)
    act.done(target, detail)
    return target


def unlock(admin: User, user_id: int, *, session: Session, now: datetime) -> User:
    """Lift a sign-in lockout after too many wrong passwords or codes."""
    act = _AdminAction(admin, events.LOCKOUT, "unlock account", session, now)
    target = act.target(user_id)
    if target.locked_until is None or target.locked_until <= now:
        raise InvalidInput(f"{target.username} is not locked.")
    target.locked_until = None
    target.failed_login_count = 0
    session.add(target)
    act.done(target)
    return target


def end_sessions(admin: User, user_id: int, *, session: Session, now: datetime) -> int:
    """Sign the person out on every device; returns how many open sessions were closed."""
    act = _AdminAction(admin, events.SESSION, "end all sessions", session, now)
    target = act.target(user_id)
    ended = sessions.end_all(target, session=session, now=now)
    act.done(target, f"{ended} open sessions ended")
    return ended


def reset_mfa(admin: User, user_id: int, *, session: Session, now: datetime) -> User:
    """Clear a staff member's two-step sign-in so they enrol again at their next sign-in."""
    act = _AdminAction(admin, events.MFA, "reset two-step sign-in", session, now)
    target = act.target(user_id)
    if target.role not in STAFF_ROLES:
        raise InvalidInput(
            "Two-step sign-in reset is for staff accounts. Patients turn it off themselves "
            "under Account security, or use a reset code."
        )
    if target.mfa_secret is None and target.mfa_enabled_at is None:
        raise InvalidInput(f"{target.username} has not set up two-step sign-in yet.")
    target.mfa_secret = None
    target.mfa_enabled_at = None
    target.mfa_last_step = None
    for code in session.exec(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == target.id)):
        session.delete(code)
    ended = sessions.end_all(target, session=session, now=now)
    act.done(target, f"recovery codes removed; {ended} open sessions ended")
    return target


def create_staff_account(
    admin: User,
    *,
    username: str,
    display_name: str,
    role: Role | str,
    email: str | None = None,
    session: Session,
    now: datetime,
) -> tuple[User, str]:
    """A new staff account and a one-time code with which its owner sets a password."""
    category, action = events.USER_ADMIN, "create staff account"
    require_admin(admin, session=session, now=now)
    username = (username or "").strip().lower()
    display_name = (display_name or "").strip()
    try:
        staff_role: Role | None = Role(role)
    except ValueError:
        staff_role = None
    if staff_role is None or staff_role not in STAFF_ROLES:
        raise InvalidInput("Choose a staff role: front desk, nurse, clinician or administrator.")
    if not account_codes.USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "Choose a username of 3 to 64 characters: lower-case letters, digits, dot, dash or "
            "underscore, starting with a letter or digit."
        )
    if not display_name or len(display_name) > 200:
        raise InvalidInput("Enter the person's name (up to 200 characters).")
    email = (email or "").strip() or None
    if email is not None and ("@" not in email or len(email) > 200):
        raise InvalidInput("That e-mail address does not look right.")
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise InvalidInput("That username is taken; please choose another.")
    # Nobody knows this password: the owner sets their own with the one-time code.
    user = User(
        username=username,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        role=staff_role,
        display_name=display_name,
        email=email,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        actor=admin,
        category=category,
        action=action,
        detail=f"account {username}: role {staff_role}",
        now=now,
    )
    code = account_codes.issue_user_reset_code(admin, user, session=session, now=now)
    session.refresh(user)
    return user, code


def issue_staff_code(admin: User, user_id: int, *, session: Session, now: datetime) -> str:
    """A new one-time code for a staff member who forgot their password (patients: activation)."""
    act = _AdminAction(admin, events.ACCOUNT_CODE, "issue staff reset code", session, now)
    target = act.target(user_id)
    if target.role not in STAFF_ROLES:
        raise InvalidInput(
            "Reset codes for patients are issued on the Portal activation page, from the "
            "patient's record."
        )
    return account_codes.issue_user_reset_code(admin, target, session=session, now=now)
