"""Audit trail: who did what to which patient's data, and whether it was allowed."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlmodel import Session

from db.models import AuditEvent, User
from portal.services import audit_chain, audit_views
from portal.text_hygiene import clean_line


class Outcome:
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


def record(
    *,
    session: Session,
    actor: User | None,
    category: str,
    action: str,
    patient_id: int | None = None,
    outcome: str = Outcome.SUCCESS,
    detail: str | None = None,
    now: datetime | None = None,
) -> AuditEvent | None:
    """Add one audit entry to the session; the caller's commit makes it durable with the change.

    The entry is hash-chained at once (see ``audit_chain``), which locks the chain head until the
    caller's transaction ends: commit or roll back promptly. Inside a view (``audit_views``) a
    successful read already logged in that view is not logged again (None is returned).
    """
    if action == "read" and outcome == Outcome.SUCCESS:
        key = ("read", actor.id if actor else None, patient_id, category, detail)
        if audit_views.already_logged(key):
            return None
        audit_views.mark_when_committed(session, key)
    event = _entry(actor, category, action, patient_id, outcome, detail, now)
    return audit_chain.append(session, event)


def _entry(
    actor: User | None,
    category: str,
    action: str,
    patient_id: int | None,
    outcome: str,
    detail: str | None,
    now: datetime | None,
) -> AuditEvent:
    return AuditEvent(
        at=now or datetime.now(UTC),
        user_id=actor.id if actor else None,
        username=actor.username if actor else None,
        role=str(actor.role) if actor else None,
        patient_id=patient_id,
        category=clean_line(category)[:64],
        action=clean_line(action)[:32],
        outcome=outcome,
        # Details quote what people typed (file names, search words): one clean line, and cut
        # to the column's size here, before hashing, so the stored entry is the hashed one.
        detail=None if detail is None else clean_line(detail)[:1000],
    )


def record_listed(
    *,
    session: Session,
    actor: User,
    category: str,
    patient_ids: Iterable[int | None],
    detail: str | None = None,
    now: datetime | None = None,
) -> list[AuditEvent]:
    """A list view that showed several patients: one read entry per patient listed, so each
    sees it under "Who viewed my record" (and one entry without a patient for an empty list).

    Chained under one lock of the head; the caller commits. Inside a view (``audit_views``) the
    same list (same patients, category and detail) is logged once, not on every rerun.
    """
    # Once each, in order (typed as the entries' patient ids, which may be None).
    ids: list[int | None] = list(dict.fromkeys(p for p in patient_ids if p is not None))
    key = ("listed", actor.id, category, tuple(ids), detail)
    if audit_views.already_logged(key):
        return []
    audit_views.mark_when_committed(session, key)
    events = [
        _entry(actor, category, "read", patient_id, Outcome.SUCCESS, detail, now)
        for patient_id in ids or [None]  # an empty list is logged once, without a patient
    ]
    return audit_chain.append_many(session, events)
