"""Reading the audit trail: the admin search with CSV export, and "who viewed my record".

Both reads are themselves audited, so looking at the log leaves a trace too.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from db.models import STAFF_ROLES, AuditEvent, User
from portal.permissions import Action
from portal.services import access, audit, audited_reads
from portal.services import security_events as events
from portal.services.permissions import require_permission

SEARCH_LIMIT = 5000
CSV_COLUMNS = (
    "id", "at", "username", "role", "patient_id", "category", "action", "outcome", "detail"
)  # fmt: skip


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    patient_id: int | None = None
    category: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _query(flt: AuditFilter) -> SelectOfScalar[AuditEvent]:
    query = select(AuditEvent)
    if flt.username:
        query = query.where(AuditEvent.username == flt.username.strip())
    if flt.patient_id is not None:
        query = query.where(AuditEvent.patient_id == flt.patient_id)
    if flt.category:
        query = query.where(AuditEvent.category == flt.category)
    if flt.start is not None:
        query = query.where(AuditEvent.at >= flt.start)
    if flt.end is not None:
        query = query.where(AuditEvent.at < flt.end)
    return query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())


def search(
    admin: User, flt: AuditFilter, *, session: Session, now: datetime, limit: int = SEARCH_LIMIT
) -> list[AuditEvent]:
    """Entries matching every given filter, newest first (at most ``limit``)."""
    require_permission(admin, Action.VIEW_AUDIT_LOG, session=session, now=now)
    rows = list(session.exec(_query(flt).limit(limit)).all())
    audit.record(
        session=session,
        actor=admin,
        category=events.AUDIT_LOG,
        action="search",
        patient_id=flt.patient_id,
        detail=f"{len(rows)} entries",
        now=now,
    )
    session.commit()
    return rows


def categories(admin: User, *, session: Session) -> list[str]:
    require_permission(admin, Action.VIEW_AUDIT_LOG, session=session, now=None)
    return sorted(session.exec(select(AuditEvent.category).distinct()).all())


def export_csv(admin: User, flt: AuditFilter, *, session: Session, now: datetime) -> str:
    """The search result as CSV; the export is audited as an export."""
    require_permission(admin, Action.VIEW_AUDIT_LOG, session=session, now=now)
    rows = session.exec(_query(flt).limit(SEARCH_LIMIT)).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = [getattr(row, name) for name in CSV_COLUMNS]
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow([_inert(v) for v in values])
    audit.record(
        session=session,
        actor=admin,
        category=events.EXPORT,
        action="export audit log",
        patient_id=flt.patient_id,
        detail=f"{len(rows)} entries as CSV",
        now=now,
    )
    session.commit()
    return buffer.getvalue()


def _inert(value: object) -> str:
    text = (
        "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value))
    )
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class RecordView:
    at: datetime
    staff_name: str
    role: str
    what: str
    staff_id: int | None = None  # two staff members may share a name


def who_viewed(user: User, patient_id: int, *, session: Session, now: datetime) -> list[RecordView]:
    """Clinic staff who opened this patient's record, newest first (checks access, audited)."""
    access.require_patient_access(
        user, patient_id, session=session, category=events.ACCESS_LOG, now=now
    )
    staff_roles = [str(role) for role in STAFF_ROLES]
    rows = session.exec(
        select(AuditEvent, User)
        .join(User, col(User.id) == col(AuditEvent.user_id))
        .where(
            AuditEvent.patient_id == patient_id,
            col(AuditEvent.role).in_(staff_roles),
            AuditEvent.action == "read",
            AuditEvent.outcome == audit.Outcome.SUCCESS,
        )
        .order_by(col(AuditEvent.at).desc())
        .limit(1000)
    ).all()
    audited_reads.log_read(user, patient_id, session=session, category=events.ACCESS_LOG, now=now)
    return [
        RecordView(
            at=event.at,
            staff_name=staff.display_name or staff.username,
            role=str(event.role).replace("_", " "),
            what=event.category,
            staff_id=staff.id,
        )
        for event, staff in rows
    ]
