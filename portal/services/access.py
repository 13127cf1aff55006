"""Who may see which patient. Every service that returns health data goes through here."""

from datetime import datetime
from typing import Protocol

from sqlmodel import Session, col, select

from db.models import STAFF_ROLES, Patient, ProxyGrant, Role, User
from portal.errors import NotYourRecord
from portal.permissions import Action, allows
from portal.services import audit
from portal.services.permissions import may


class _Account(Protocol):
    """An account or a listing of one (user_admin.UserRow): anything that names its role."""

    @property
    def role(self) -> Role: ...


def is_staff(user: _Account) -> bool:
    """Which side of the portal the account is on (who wrote a message, whose menu); what it
    may do is the permission table's answer (``portal.permissions``)."""
    return user.role in STAFF_ROLES


def viewable_patient_ids(user: User, *, session: Session) -> list[int]:
    """The patients a patient or proxy account may open (staff: use ``is_staff``)."""
    ids: list[int] = []
    if user.patient_id is not None and user.role == Role.PATIENT:
        ids.append(user.patient_id)
    if user.role in (Role.PATIENT, Role.PROXY):
        grants = session.exec(
            select(ProxyGrant.patient_id).where(
                ProxyGrant.user_id == user.id, col(ProxyGrant.revoked_at).is_(None)
            )
        ).all()
        ids.extend(pid for pid in grants if pid not in ids)
    return ids


def viewable_patients(user: User, *, session: Session) -> list[Patient]:
    """Patient rows this patient/proxy account may switch between, own record first."""
    ids = viewable_patient_ids(user, session=session)
    if not ids:
        return []
    rows = {p.id: p for p in session.exec(select(Patient).where(col(Patient.id).in_(ids))).all()}
    return [rows[i] for i in ids if i in rows]


def can_view_patient(user: User, patient_id: int, *, session: Session) -> bool:
    if not user.active:
        return False
    # The table first (no query for a patient's own reads), then the database's current role.
    if allows(user.role, Action.READ_ANY_CHART):
        return may(user, Action.READ_ANY_CHART, session=session)
    return patient_id in viewable_patient_ids(user, session=session)


def require_patient_access(
    user: User,
    patient_id: int,
    *,
    session: Session,
    category: str,
    now: datetime | None = None,
) -> None:
    """Refuse (and audit the refusal, committed at once) unless ``user`` may see the patient."""
    if can_view_patient(user, patient_id, session=session):
        return
    audit.record(
        session=session,
        actor=user,
        category=category,
        action="read",
        patient_id=patient_id if session.get(Patient, patient_id) else None,
        outcome=audit.Outcome.DENIED,
        detail=f"requested patient {patient_id}",
        now=now,
    )
    # The denial must survive even when the caller rolls back after the exception.
    session.commit()
    raise NotYourRecord()
