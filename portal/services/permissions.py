"""The one check services make before acting: does this account's role hold the action?"""

from datetime import datetime

from sqlmodel import Session, select

from db.models import Patient, Role, User
from portal.errors import NotAllowed
from portal.permissions import REFUSALS, Action, allows
from portal.services import audit

CATEGORY = "permission"


def current_role(user: User, *, session: Session) -> Role | str | None:
    """The account's role as the database has it now, or None if it is inactive or gone.

    The database decides, not the passed object: a page opened before a demotion or a
    deactivation (on another tab, by an administrator) must not keep the old rights. The column
    holds text: a role this code does not know comes back as that text (``allows`` gives it
    nothing; ``Role(...)`` here would crash instead).
    """
    if user is None or user.id is None or not user.active:
        return None
    row = session.exec(select(User.role, User.active).where(User.id == user.id)).first()
    if row is None or not row[1]:
        return None
    return row[0]


def may(user: User, action: Action, *, session: Session) -> bool:
    """Whether ``user`` may do ``action`` now (for showing or hiding a control; no audit)."""
    return allows(current_role(user, session=session), action)


def require_permission(
    user: User,
    action: Action,
    *,
    session: Session,
    now: datetime | None,
    patient_id: int | None = None,
    category: str = CATEGORY,
) -> None:
    """Refuse with ``NotAllowed`` unless the user's role holds ``action``.

    Every refusal is audited as denied and committed at once, so it stays on record even when
    the caller rolls back after the exception. ``category`` files the refusal with the feature's
    own audit entries (e.g. "searched patients") where a search of the log expects it there.
    """
    role = current_role(user, session=session)
    if allows(role, action):
        return
    audit.record(
        session=session,
        actor=user,
        category=category,
        action=str(action),
        patient_id=patient_id if patient_id and session.get(Patient, patient_id) else None,
        outcome=audit.Outcome.DENIED,
        detail=f"role {role or 'inactive'} does not hold '{action}'",
        now=now,
    )
    session.commit()
    raise NotAllowed(REFUSALS[action])
