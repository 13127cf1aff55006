"""The staff triage inbox: one queue for every kind of patient request.

A request type (message thread, refill, profile change, and later visit requests, reading alerts,
referrals) keeps its own table and registers a ``KindSpec`` here; its rows enter the inbox with
``open_item``. Every staff action goes through ``_versioned_update``, which only changes the row
if it still has the version the staff member saw, so two people never overwrite each other.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import case, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from db.models import (
    OPEN_TRIAGE_STATUSES,
    STAFF_ROLES,
    Patient,
    TriageEvent,
    TriageItem,
    TriageStatus,
    User,
    saved_id,
)
from portal.config import get_settings
from portal.errors import InvalidInput, NotFound, PortalError
from portal.permissions import Action
from portal.services import audit, sla
from portal.services.audited_reads import LISTED_IN_REFILLS, LISTED_IN_TRIAGE, log_read
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found, rows_changed

CATEGORY = "triage"
R = TypeVar("R", bound=SQLModel)  # a request table


class StaleItem(PortalError):
    """Someone changed the item after the acting staff member loaded it."""

    def __init__(self, current: TriageItem, assignee_name: str | None = None):
        who = f", assigned to {assignee_name}" if assignee_name else ", unassigned"
        super().__init__(
            "Someone else updated this item while you were looking at it, so your change was "
            f"not saved. It is now '{status_label(current.status)}'{who}. "
            "Please review the current state below and try again if it is still needed."
        )
        self.current = current


# --- kinds: the extension point ----------------------------------------------------------


@dataclass(frozen=True)
class KindSpec:
    """How the inbox treats one kind of request."""

    kind: str
    label: str
    # Called inside the same transaction when a staff action changes the item's status, so the
    # request's own status (e.g. refill "in review") never drifts from the inbox.
    on_status_change: Callable[..., None] | None = None
    # Staff page that handles the specific decision (refill approve/deny), if any.
    work_page: str | None = None
    # The action needed to close an item of this kind by a status change: closing a refill is
    # taking it off the queue undecided, which is the prescriber's call, not the router's.
    close_needs: Action | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_KINDS: dict[str, KindSpec] = {}


def register_kind(spec: KindSpec) -> None:
    _KINDS[spec.kind] = spec


def kinds() -> dict[str, KindSpec]:
    """Every registered kind (importing the request modules registers them)."""
    import portal.services.request_kinds  # noqa: F401  (lazy: those modules import this one)

    return dict(_KINDS)


def kind_label(kind: str) -> str:
    spec = kinds().get(kind)
    return spec.label if spec else kind.replace("_", " ").capitalize()


STATUS_LABELS: dict[str, str] = {
    TriageStatus.NEW: "New",
    TriageStatus.IN_PROGRESS: "In progress",
    TriageStatus.WAITING_ON_PATIENT: "Waiting on patient",
    TriageStatus.CLOSED: "Closed",
}


PRIORITY_LABELS = {1: "Urgent", 2: "Normal", 3: "Low"}


def priority_label(priority: int) -> str:
    return PRIORITY_LABELS.get(priority, "")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


# --- entering the inbox -------------------------------------------------------------------


def _event(
    session: Session, item_id: int, actor: User | None, action: str, now: datetime, **kw: Any
) -> None:
    session.add(
        TriageEvent(
            item_id=item_id,
            at=now,
            actor_user_id=actor.id if actor else None,
            action=action,
            **kw,
        )
    )


class PatientRequest(Protocol):
    """A patient's request row (a refill, a referral, a visit request, ...)."""

    @property
    def id(self) -> int | None: ...

    @property
    def patient_id(self) -> int: ...


def file_request(
    request: PatientRequest,
    *,
    kind: str,
    summary: str,
    actor: User,
    audit_category: str,
    audit_action: str,
    session: Session,
    now: datetime,
    audit_detail: str | None = None,
) -> TriageItem:
    """Store a patient's request row, put it in the triage inbox and audit it, in the caller's
    transaction (the caller commits, so the request and its inbox item land together)."""
    item = enter_request(request, kind=kind, summary=summary, actor=actor, session=session, now=now)
    audit.record(
        session=session,
        actor=actor,
        category=audit_category,
        action=audit_action,
        patient_id=request.patient_id,
        detail=audit_detail,
        now=now,
    )
    return item


def enter_request(
    request: PatientRequest,
    *,
    kind: str,
    summary: str,
    actor: User,
    session: Session,
    now: datetime,
) -> TriageItem:
    """Store a patient's request row and put it in the triage inbox, unaudited: for a caller that
    audits several requests as one change (``file_request`` audits each)."""
    session.add(request)
    session.flush()  # the request's id is the inbox item's reference
    return open_item(
        session=session,
        kind=kind,
        ref_id=saved_id(request),
        patient_id=request.patient_id,
        summary=summary,
        actor=actor,
        now=now,
    )


def open_item(
    *,
    session: Session,
    kind: str,
    ref_id: int,
    patient_id: int,
    summary: str,
    actor: User | None,
    now: datetime,
    priority: int = 2,
) -> TriageItem:
    """Put a request in the inbox, or (when it is already there) mark it as having news.

    A closed item is reopened with a fresh due time; an open one keeps its due time but gets a
    new version, so staff working on it are told the patient added something. The caller commits.
    """
    item = session.exec(
        select(TriageItem).where(TriageItem.kind == kind, TriageItem.ref_id == ref_id)
    ).first()
    summary = summary[:200]
    if item is None:
        item = TriageItem(
            kind=kind,
            ref_id=ref_id,
            patient_id=patient_id,
            summary=summary,
            priority=priority,
            created_at=now,
            updated_at=now,
            due_at=sla.due_at(kind, now, get_settings(), priority),
        )
        session.add(item)
        session.flush()
        _event(session, saved_id(item), actor, "created", now, to_status=TriageStatus.NEW)
        return item
    if item.status == TriageStatus.CLOSED:
        priority = min(priority, item.priority)  # reopening never makes an item less urgent
        values = {
            "status": TriageStatus.NEW,
            "closed_at": None,
            "assignee_user_id": None,
            "due_at": sla.due_at(kind, now, get_settings(), priority),
            "priority": priority,
        }
        action = "reopened"
    else:
        values = {"status": TriageStatus.NEW} if item.status == "waiting_on_patient" else {}
        action = "patient_update"
    before = item.status
    _bump(session, item, values | {"summary": summary}, now)
    _event(
        session,
        saved_id(item),
        actor,
        action,
        now,
        from_status=before,
        to_status=values.get("status"),
    )
    return item


def _bump(session: Session, item: TriageItem, values: dict[str, Any], now: datetime) -> None:
    # Patient-side changes are not guarded (the patient cannot see the version) but still bump it.
    session.execute(
        update(TriageItem)
        .where(col(TriageItem.id) == item.id)
        .values(**values, updated_at=now, version=TriageItem.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(item)


# --- reading the inbox --------------------------------------------------------------------


@dataclass
class InboxRow:
    item: TriageItem
    patient_name: str
    patient_mrn: str | None
    assignee_name: str | None
    overdue: bool

    @property
    def kind_label(self) -> str:
        return kind_label(self.item.kind)


def list_items(
    actor: User,
    *,
    session: Session,
    now: datetime,
    kind: str | None = None,
    statuses: tuple[str, ...] = OPEN_TRIAGE_STATUSES,
    assignee_id: int | None = None,
    unassigned: bool = False,
    overdue_only: bool = False,
    limit: int = 200,
) -> list[InboxRow]:
    """Inbox rows, urgent first; within a priority overdue first, then by due time (one query,
    no N+1)."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    assignee = aliased(User)
    overdue = case((col(TriageItem.due_at) < now, 0), else_=1)
    # Five columns and entities (one an alias): more than sqlmodel's select() is typed for, so
    # SQLAlchemy's (the same SQL).
    query = (
        sa_select(
            TriageItem,
            col(Patient.given_name),
            col(Patient.family_name),
            col(Patient.mrn),
            assignee,
        )
        .join(Patient, col(Patient.id) == col(TriageItem.patient_id))
        .outerjoin(assignee, col(assignee.id) == col(TriageItem.assignee_user_id))
        .where(col(TriageItem.status).in_(statuses))
        .order_by(col(TriageItem.priority), overdue, col(TriageItem.due_at), col(TriageItem.id))
        .limit(limit)
    )
    if kind:
        query = query.where(col(TriageItem.kind) == kind)
    if unassigned:
        query = query.where(col(TriageItem.assignee_user_id).is_(None))
    elif assignee_id is not None:
        query = query.where(col(TriageItem.assignee_user_id) == assignee_id)
    if overdue_only:
        query = query.where(col(TriageItem.due_at) < now)
    rows = [
        InboxRow(
            item=item,
            patient_name=f"{given} {family}".strip(),
            patient_mrn=mrn,
            assignee_name=(user.display_name or user.username) if user else None,
            overdue=item.due_at < now and item.status != TriageStatus.CLOSED,
        )
        for item, given, family, mrn, user in session.execute(query).all()
    ]
    # Each patient on the list sees this view in their access log.
    audit.record_listed(
        session=session,
        actor=actor,
        category=LISTED_IN_REFILLS if kind == "refill" else LISTED_IN_TRIAGE,
        patient_ids=[row.item.patient_id for row in rows],
        detail=f"{len(rows)} items" + (f" ({kind})" if kind else ""),
        now=now,
    )
    session.commit()
    return rows


def queue_counts(actor: User, *, session: Session, now: datetime) -> dict[str, dict[str, int]]:
    """Open and overdue counts per kind, for the tabs above the inbox."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    overdue = func.sum(case((col(TriageItem.due_at) < now, 1), else_=0))
    rows = session.exec(
        select(TriageItem.kind, func.count(), overdue)
        .where(col(TriageItem.status).in_(OPEN_TRIAGE_STATUSES))
        .group_by(TriageItem.kind)
    ).all()
    return {kind: {"open": int(n), "overdue": int(late or 0)} for kind, n, late in rows}


def get_item(actor: User, item_id: int, *, session: Session, now: datetime) -> TriageItem:
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    item = get_or_not_found(session, TriageItem, item_id, "That inbox item no longer exists.")
    session.refresh(item)
    log_read(
        actor,
        item.patient_id,
        session=session,
        category=CATEGORY,
        detail=f"triage item {item.id} ({item.kind})",
        now=now,
    )
    return item


@dataclass
class HistoryRow:
    event: TriageEvent
    actor_name: str


def history(actor: User, item_id: int, *, session: Session) -> list[HistoryRow]:
    """Who did what to the item, oldest first."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=None)
    rows = session.exec(
        select(TriageEvent, User)
        .outerjoin(User, col(User.id) == TriageEvent.actor_user_id)
        .where(TriageEvent.item_id == item_id)
        .order_by(col(TriageEvent.at), col(TriageEvent.id))
    ).all()
    return [
        HistoryRow(event=e, actor_name=(u.display_name or u.username) if u else "System")
        for e, u in rows
    ]


def staff_members(actor: User, *, session: Session) -> list[User]:
    """Active staff a triage item can be assigned to."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=None)
    return list(
        session.exec(
            select(User)
            .where(col(User.active).is_(True), col(User.role).in_(list(STAFF_ROLES)))
            .order_by(User.display_name, User.username)
        ).all()
    )


# --- staff actions (each guarded by the version the staff member saw) ---------------------


def transition(
    actor: User,
    item_id: int,
    seen_version: int,
    *,
    session: Session,
    now: datetime,
    action: str,
    values: dict[str, Any],
    detail: str | None = None,
) -> TriageItem:
    """Apply ``values`` only if the item is still at ``seen_version``; record the event.

    Raises ``StaleItem`` (with the current row) when another change got there first. The caller
    commits, so a request module can change its own row in the same transaction.
    """
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    before = session.exec(select(TriageItem.status).where(TriageItem.id == item_id)).first()
    if before is None:
        raise NotFound("That inbox item no longer exists.")
    result = session.execute(
        update(TriageItem)
        .where(col(TriageItem.id) == item_id, col(TriageItem.version) == seen_version)
        .values(**values, updated_at=now, version=TriageItem.version + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        session.rollback()
        raise _stale(session, item_id)
    item = get_or_not_found(session, TriageItem, item_id)  # the update above just matched it
    session.refresh(item)
    new_status = values.get("status")
    _event(
        session,
        item_id,
        actor,
        action,
        now,
        from_status=before,
        to_status=new_status,
        detail=detail,
    )
    if new_status and new_status != before:
        spec = kinds().get(item.kind)
        if spec and spec.on_status_change:
            spec.on_status_change(session=session, ref_id=item.ref_id, status=new_status, now=now)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="update",
        patient_id=item.patient_id,
        detail=f"triage item {item.id}: {action}",
        now=now,
    )
    return item


def _stale(session: Session, item_id: int) -> PortalError:
    current = session.get(TriageItem, item_id)
    if current is None:
        return NotFound("That inbox item no longer exists.")
    session.refresh(current)
    assignee = session.get(User, current.assignee_user_id) if current.assignee_user_id else None
    return StaleItem(current, (assignee.display_name or assignee.username) if assignee else None)


def claim(
    actor: User, item_id: int, seen_version: int, *, session: Session, now: datetime
) -> TriageItem:
    """Take the item: it is assigned to the actor and in progress."""
    item = transition(
        actor,
        item_id,
        seen_version,
        session=session,
        now=now,
        action="claimed",
        values={"assignee_user_id": actor.id, "status": TriageStatus.IN_PROGRESS},
    )
    session.commit()
    return item


def assign(
    actor: User,
    item_id: int,
    seen_version: int,
    assignee_id: int,
    *,
    session: Session,
    now: datetime,
) -> TriageItem:
    """Hand the item to a colleague (who must be active staff)."""
    assignee = session.get(User, assignee_id)
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    if assignee is None or not assignee.active or assignee.role not in STAFF_ROLES:
        raise InvalidInput("Please pick an active member of staff.")
    item = transition(
        actor,
        item_id,
        seen_version,
        session=session,
        now=now,
        action="assigned",
        values={"assignee_user_id": assignee.id},
        detail=f"to {assignee.display_name or assignee.username}",
    )
    session.commit()
    return item


def change_status(
    actor: User,
    item_id: int,
    seen_version: int,
    status: str,
    reason: str,
    *,
    session: Session,
    now: datetime,
) -> TriageItem:
    """Move the item to another status; the reason is kept in its history."""
    if status not in STATUS_LABELS:
        raise InvalidInput("Please pick a status from the list.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Please give a reason for the status change.")
    if len(reason) > 2000:
        raise InvalidInput("Please keep the reason under 2,000 characters.")
    if status == TriageStatus.CLOSED:
        kind = session.exec(select(TriageItem.kind).where(TriageItem.id == item_id)).first()
        # kind None: no such item (transition below refuses it).
        spec = kinds().get(kind) if kind is not None else None
        if spec and spec.close_needs:
            require_permission(actor, spec.close_needs, session=session, now=now)
    values: dict[str, Any] = {"status": status}
    values["closed_at"] = now if status == TriageStatus.CLOSED else None
    item = transition(
        actor,
        item_id,
        seen_version,
        session=session,
        now=now,
        action="status_changed",
        values=values,
        detail=reason,
    )
    session.commit()
    return item


def close_values(now: datetime) -> dict[str, Any]:
    return {"status": TriageStatus.CLOSED, "closed_at": now}


def _item_for(session: Session, kind: str, ref_id: int) -> TriageItem | None:
    """The triage item of one request, unchecked: for services that have checked the actor."""
    return session.exec(
        select(TriageItem).where(TriageItem.kind == kind, TriageItem.ref_id == ref_id)
    ).first()


def item_of_kind(session: Session, item_id: int, kind: str, what: str) -> TriageItem:
    """The inbox item ``item_id`` when it is of ``kind`` (its ``ref_id`` names the request row);
    otherwise NotFound, naming ``what`` it should have been ("a refill request")."""
    item = session.get(TriageItem, item_id)
    if item is None or item.kind != kind:
        raise NotFound(f"That inbox item is not {what}.")
    return item


def request_of_item(
    session: Session, item_id: int, kind: str, model: type[R], what: str
) -> tuple[TriageItem, R]:
    """The inbox item ``item_id`` of ``kind`` and the ``model`` row it names, ``what`` being
    that row in words ("refill request"). NotFound says which is missing: "That inbox item is
    not a refill request." or "That refill request is no longer there."."""
    item = item_of_kind(session, item_id, kind, f"a {what}")
    return item, get_or_not_found(session, model, item.ref_id, f"That {what} is no longer there.")


def close(
    actor: User,
    item_id: int,
    seen_version: int,
    *,
    action: str,
    detail: str | None,
    session: Session,
    now: datetime,
) -> TriageItem:
    """Close the item because its request was settled (``action``: "approved", "booked", ...)."""
    return transition(
        actor,
        item_id,
        seen_version,
        session=session,
        now=now,
        action=action,
        values=close_values(now),
        detail=detail,
    )
