"""Who may see which patient. Every service that returns health data goes through here."""

from datetime import datetime

from sqlmodel import Session, select

from db.models import STAFF_ROLES, Patient, ProxyGrant, Role, User
from portal.errors import NotAllowed, NotYourRecord
from portal.services import audit


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def viewable_patient_ids(user: User, *, session: Session) -> list[int]:
    """The patients a patient or proxy account may open (staff: use ``is_staff``)."""
    ids: list[int] = []
    if user.patient_id is not None and user.role == Role.PATIENT:
        ids.append(user.patient_id)
    if user.role in (Role.PATIENT, Role.PROXY):
        grants = session.exec(
            select(ProxyGrant.patient_id).where(
                ProxyGrant.user_id == user.id, ProxyGrant.revoked_at.is_(None)
            )
        ).all()
        ids.extend(pid for pid in grants if pid not in ids)
    return ids


def viewable_patients(user: User, *, session: Session) -> list[Patient]:
    """Patient rows this patient/proxy account may switch between, own record first."""
    ids = viewable_patient_ids(user, session=session)
    if not ids:
        return []
    rows = {p.id: p for p in session.exec(select(Patient).where(Patient.id.in_(ids))).all()}
    return [rows[i] for i in ids if i in rows]


def can_view_patient(user: User, patient_id: int, *, session: Session) -> bool:
    if not user.active:
        return False
    if is_staff(user):
        return True
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


def require_staff(
    user: User,
    *,
    session: Session | None = None,
    now: datetime | None = None,
    what: str = "staff-only action",
) -> None:
    """Refuse anyone but active staff; with a session the refusal is audited (committed at once,
    so it survives the caller's rollback) and names the service that refused."""
    if user.active and is_staff(user):
        return
    if session is not None:
        audit_refusal(user, session=session, now=now, what=what, reason="not a staff account")
    raise NotAllowed("This page is for clinic staff.")


def audit_refusal(
    user: User,
    *,
    session: Session,
    now: datetime | None,
    what: str,
    reason: str,
    patient_id: int | None = None,
) -> None:
    """Record a refused call (role or account state) and commit it at once."""
    audit.record(
        session=session,
        actor=user,
        category=what[:64],
        action="refused",
        # Only a patient that exists (an id from a tampered request may not).
        patient_id=patient_id if patient_id and session.get(Patient, patient_id) else None,
        outcome=audit.Outcome.DENIED,
        detail=f"{what}: {reason}",
        now=now,
    )
    session.commit()
