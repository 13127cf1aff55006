"""The one way a staff decision on a patient's request is recorded: the inbox item closes with
the decision (checked against the version the staff member saw) and the request row is stamped
with its status, the reason, who decided and when. The caller tells the patient afterwards
(notifications.tell_patient_of_decision), which commits."""

from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from db.models import User
from portal.errors import InvalidInput
from portal.services import triage

REASON_MAX = 2000  # the decision_reason columns' length


class DecidedRequest(Protocol):
    """A request table with decision columns (refill, referral, profile change)."""

    status: str
    decision_reason: str | None
    decided_by_user_id: int | None
    decided_at: datetime | None


def checked_reason(reason: str | None, *, required: bool, missing: str) -> str:
    """The reason as stored; ``missing`` says why one is needed (the patient will read it)."""
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidInput(missing)
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Please keep the reason under {REASON_MAX:,} characters.")
    return reason


def record_decision(
    actor: User,
    item_id: int,
    seen_version: int,
    request: DecidedRequest,
    *,
    decision: str,
    status: str,
    reason: str,
    session: Session,
    now: datetime,
) -> None:
    """Close the inbox item as ``decision`` and stamp the request (in the caller's transaction)."""
    triage.close(
        actor,
        item_id,
        seen_version,
        action=decision,
        detail=reason or None,
        session=session,
        now=now,
    )
    session.refresh(request)
    request.status = status
    request.decision_reason = reason or None
    request.decided_by_user_id = actor.id
    request.decided_at = now
    session.add(request)
