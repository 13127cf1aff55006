"""In-app notifications to a patient's record (the patient and their proxies see them), and the
content-free email that points the patient back to the portal."""

from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from db.models import Notification, Patient, Role, User
from portal.config import get_settings
from portal.services import audit, audited_reads, email
from portal.services.access import require_patient_access
from portal.services.rows import rows_changed

CATEGORY = "notifications"


class Kind:
    REPLY = "reply"
    REFILL_DECIDED = "refill_decided"
    PROFILE_DECIDED = "profile_decided"
    VISIT_BOOKED = "visit_booked"
    REFERRAL_DECIDED = "referral_decided"


def notify(
    *,
    session: Session,
    patient_id: int,
    kind: str,
    text: str,
    now: datetime,
    link_page: str | None = None,
) -> Notification:
    """Add a notification to the session; the caller commits (then calls ``send_emails``).
    ``link_page`` names the page that holds what it is about (components/navigation.PAGES)."""
    note = Notification(
        patient_id=patient_id, kind=kind, text=text[:500], link_page=link_page, created_at=now
    )
    session.add(note)
    return note


def page_of(note: Notification) -> str | None:
    """The page a notification points to, by name ("messages"); older scheduling notices stored
    the file ("pages/appointments.py")."""
    return PurePosixPath(note.link_page).stem if note.link_page else None


def tell_patient_of_decision(
    actor: User,
    *,
    session: Session,
    patient_id: int,
    kind: str,
    text: str,
    link_page: str,
    category: str,
    detail: str,
    now: datetime,
) -> None:
    """The end of a staff decision on a patient's request (refill, referral, visit, profile
    change): the portal notice and the audit entry in the caller's transaction, one commit, then
    the email, so nothing is sent for a decision that was not stored."""
    notify(
        session=session, patient_id=patient_id, kind=kind, text=text, link_page=link_page, now=now
    )
    audit.record(
        session=session,
        actor=actor,
        category=category,
        action="update",
        patient_id=patient_id,
        detail=detail,
        now=now,
    )
    session.commit()
    send_emails([patient_id], session=session)


def _email_address(patient_id: int, *, session: Session) -> str | None:
    account = session.exec(
        select(User.email).where(
            User.patient_id == patient_id, User.role == Role.PATIENT, col(User.active).is_(True)
        )
    ).first()
    if account:
        return account
    patient = session.get(Patient, patient_id)
    return patient.email if patient else None


def send_emails(patient_ids: list[int], *, session: Session) -> int:
    """After commit: email each patient that there is news (no details). Returns emails sent."""
    settings = get_settings()
    if not email.email_enabled(settings):
        return 0
    sent = 0
    for patient_id in dict.fromkeys(patient_ids):
        address = _email_address(patient_id, session=session)
        if address and email.send_update_email(address, settings):
            sent += 1
    return sent


def list_notifications(
    actor: User, patient_id: int, *, session: Session, now: datetime, limit: int = 50
) -> list[Notification]:
    """Newest first."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    rows = session.exec(
        select(Notification)
        .where(Notification.patient_id == patient_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
    ).all()
    audited_reads.log_read(actor, patient_id, session=session, category=CATEGORY, now=now)
    return list(rows)


def unread_count(actor: User, patient_id: int, *, session: Session, now: datetime) -> int:
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.patient_id == patient_id, col(Notification.read_at).is_(None))
    ).one()


def mark_all_read(actor: User, patient_id: int, *, session: Session, now: datetime) -> None:
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    marked = rows_changed(
        session.execute(
            update(Notification)
            .where(col(Notification.patient_id) == patient_id, col(Notification.read_at).is_(None))
            .values(read_at=now)
        )
    )
    audit.record(
        session=session, actor=actor, category=CATEGORY, action="mark read",
        patient_id=patient_id, detail=f"{marked} marked read", now=now,
    )  # fmt: skip
    session.commit()
