"""The staff dashboard: request volume, response times, SLA breaches, portal adoption, no-shows,
open alerts and EHR sync health.

Every figure is one grouped SQL query (GROUP BY kind / week / visit type), never a query per row,
so the page stays quick with years of requests. Weeks start on Monday and are counted in UTC on
both databases, so SQLite and PostgreSQL give the same buckets.
"""

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, Subquery, bindparam, case, cast, func, inspect
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from db.models import (
    OPEN_TRIAGE_STATUSES,
    STAFF_ROLES,
    AuthSession,
    Booking,
    BookingStatus,
    Patient,
    QuarantinedResource,
    Role,
    SyncRun,
    TriageEvent,
    TriageItem,
    User,
)
from portal.permissions import Action
from portal.services import triage
from portal.services.permissions import require_permission
from portal.services.scheduling.visit_types import label as visit_type_label

DEFAULT_WEEKS = 12
ACTIVE_DAYS = 30  # a patient account counts as active if it signed in this recently
_SEEN = (BookingStatus.ARRIVED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass(frozen=True)
class WeekCount:
    week: date  # Monday
    kind: str  # request kind, or visit type
    label: str
    count: int


@dataclass(frozen=True)
class ResponseTimes:
    answered: int  # items with a first staff response in the window
    median_hours: float | None
    by_kind: dict[str, float]  # kind -> median hours


@dataclass(frozen=True)
class SlaBreaches:
    total: int
    breached: int
    by_kind: dict[str, int]

    @property
    def rate(self) -> float | None:
        return self.breached / self.total if self.total else None


@dataclass(frozen=True)
class Adoption:
    patients: int
    activated: int  # patients with a portal account
    active: int  # of those, signed in within ACTIVE_DAYS

    @property
    def activated_share(self) -> float | None:
        return self.activated / self.patients if self.patients else None


@dataclass(frozen=True)
class NoShowWeek:
    week: date
    visit_type: str
    label: str
    visits: int
    no_shows: int

    @property
    def rate(self) -> float:
        return self.no_shows / self.visits if self.visits else 0.0


@dataclass(frozen=True)
class SyncHealth:
    last_run: SyncRun | None
    last_success_at: datetime | None
    open_quarantine: int

    @property
    def state(self) -> str:
        """'never', 'running', 'ok', 'partial' or 'failed'."""
        if self.last_run is None:
            return "never"
        return {"succeeded": "ok"}.get(self.last_run.status, self.last_run.status)


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    requests_by_week: list[WeekCount]
    response: ResponseTimes
    sla: SlaBreaches
    adoption: Adoption
    no_shows: list[NoShowWeek]
    open_alerts: dict[str, int]  # alert kind label -> open items
    sync: SyncHealth


# --- portable week buckets ------------------------------------------------------------------


def _week(session: Session, column: Mapped[datetime]) -> ColumnElement[Any]:
    """The Monday (UTC) of ``column``'s week, as a SQL expression on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)
    # SQLite stores UTC text; 'weekday 0' moves to the coming Sunday, then back to its Monday.
    return func.date(column, "weekday 0", "-6 days")


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def week_start(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


# --- the figures ----------------------------------------------------------------------------


def requests_by_week(session: Session, since: datetime) -> list[WeekCount]:
    week = _week(session, col(TriageItem.created_at)).label("week")
    rows = session.exec(
        select(week, TriageItem.kind, func.count(col(TriageItem.id)))
        .where(TriageItem.created_at >= since)
        .group_by(week, TriageItem.kind)
        .order_by(week, TriageItem.kind)
    ).all()
    return [WeekCount(_as_date(w), k, triage.kind_label(k), n) for w, k, n in rows]


def _first_responses(session: Session, since: datetime) -> Subquery:
    """item id -> first time a staff member acted on it (claim, assign, reply, status).

    Only events since ``since``: the callers ask about items created since then, whose events
    cannot be older, and the whole history would make the page slower as the clinic ages.
    """
    return (
        select(TriageEvent.item_id, func.min(TriageEvent.at).label("first_at"))
        .join(User, col(User.id) == TriageEvent.actor_user_id)
        .where(
            col(User.role).in_([r.value for r in STAFF_ROLES]),
            TriageEvent.action != "created",
            TriageEvent.at >= since,
        )
        .group_by(col(TriageEvent.item_id))
        .subquery()
    )


def response_times(session: Session, since: datetime) -> ResponseTimes:
    first = _first_responses(session, since)
    rows = session.exec(
        select(TriageItem.kind, TriageItem.created_at, first.c.first_at)
        .join(first, first.c.item_id == TriageItem.id)
        .where(TriageItem.created_at >= since)
    ).all()
    # The median has no portable SQL form (SQLite lacks percentile_cont), so it is taken here
    # from the grouped first-response times: one row per answered item, no query per row.
    hours: dict[str, list[float]] = {}
    for kind, created, first_at in rows:
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        first_at = first_at if first_at.tzinfo else first_at.replace(tzinfo=UTC)
        hours.setdefault(kind, []).append(max(0.0, (first_at - created).total_seconds() / 3600))
    every = [h for values in hours.values() for h in values]
    return ResponseTimes(
        answered=len(every),
        median_hours=statistics.median(every) if every else None,
        by_kind={k: statistics.median(v) for k, v in sorted(hours.items())},
    )


def sla_breaches(session: Session, since: datetime, now: datetime) -> SlaBreaches:
    """Items first answered after their due time, or still unanswered past it."""
    first = _first_responses(session, since)
    # The due column's own type, so "now" is bound the way due_at is stored (SQLModel's
    # __table__ is not typed; the mapper's columns are).
    now_param = bindparam("now_at", now, type_=inspect(TriageItem).columns["due_at"].type)
    breached = case((func.coalesce(first.c.first_at, now_param) > TriageItem.due_at, 1), else_=0)
    rows = session.exec(
        select(TriageItem.kind, func.count(col(TriageItem.id)), func.sum(cast(breached, Integer)))
        .outerjoin(first, first.c.item_id == TriageItem.id)
        .where(TriageItem.created_at >= since)
        .group_by(TriageItem.kind)
    ).all()
    by_kind = {kind: int(b or 0) for kind, _, b in rows}
    return SlaBreaches(
        total=sum(n for _, n, _ in rows), breached=sum(by_kind.values()), by_kind=by_kind
    )


def adoption(session: Session, now: datetime) -> Adoption:
    patients = session.exec(select(func.count(col(Patient.id)))).one()
    activated = session.exec(
        select(func.count(func.distinct(User.patient_id))).where(
            User.role == Role.PATIENT, col(User.patient_id).is_not(None), col(User.active).is_(True)
        )
    ).one()
    active = session.exec(
        select(func.count(func.distinct(User.patient_id)))
        .join(AuthSession, col(AuthSession.user_id) == User.id)
        .where(
            User.role == Role.PATIENT,
            col(User.patient_id).is_not(None),
            col(User.active).is_(True),
            AuthSession.last_seen_at >= now - timedelta(days=ACTIVE_DAYS),
        )
    ).one()
    return Adoption(patients=patients, activated=activated, active=active)


def no_show_rates(session: Session, since: datetime, now: datetime) -> list[NoShowWeek]:
    """Past visits that were due to happen (arrived, completed or no-show) by week and type."""
    week = _week(session, col(Booking.start)).label("week")
    missed = func.sum(case((col(Booking.status) == BookingStatus.NO_SHOW, 1), else_=0))
    rows = session.exec(
        select(week, Booking.visit_type, func.count(col(Booking.id)), missed)
        .where(Booking.start >= since, Booking.start < now, col(Booking.status).in_(_SEEN))
        .group_by(week, Booking.visit_type)
        .order_by(week, Booking.visit_type)
    ).all()
    return [
        NoShowWeek(_as_date(w), vt, visit_type_label(vt), int(n), int(m or 0))
        for w, vt, n, m in rows
    ]


def alert_kinds() -> list[str]:
    """Triage kinds that are alerts (reading alerts today; any kind named ``*_alert``)."""
    return [k for k in triage.kinds() if k.endswith("_alert") or k == "alert"]


def open_alerts(session: Session) -> dict[str, int]:
    kinds = alert_kinds()
    if not kinds:
        return {}
    rows = session.exec(
        select(TriageItem.kind, func.count(col(TriageItem.id)))
        .where(
            col(TriageItem.kind).in_(kinds), col(TriageItem.status).in_(list(OPEN_TRIAGE_STATUSES))
        )
        .group_by(TriageItem.kind)
    ).all()
    counts = dict(rows)
    return {triage.kind_label(k): int(counts.get(k, 0)) for k in kinds}


def sync_health(session: Session) -> SyncHealth:
    last = session.exec(select(SyncRun).order_by(col(SyncRun.started_at).desc()).limit(1)).first()
    last_ok = session.exec(
        select(func.max(SyncRun.finished_at)).where(SyncRun.status == "succeeded")
    ).one()
    quarantined = session.exec(
        select(func.count(col(QuarantinedResource.id))).where(
            col(QuarantinedResource.resolved_at).is_(None)
        )
    ).one()
    return SyncHealth(last_run=last, last_success_at=last_ok, open_quarantine=quarantined)


def clinic_dashboard(
    user: User, *, session: Session, now: datetime, weeks: int = DEFAULT_WEEKS
) -> Dashboard:
    """Every dashboard figure for the last ``weeks`` whole weeks (staff only)."""
    require_permission(user, Action.VIEW_DASHBOARD, session=session, now=now)
    if not 1 <= weeks <= 104:
        weeks = DEFAULT_WEEKS
    monday = week_start(now)
    since = datetime.combine(monday - timedelta(weeks=weeks - 1), datetime.min.time(), UTC)
    return Dashboard(
        since=since,
        requests_by_week=requests_by_week(session, since),
        response=response_times(session, since),
        sla=sla_breaches(session, since, now),
        adoption=adoption(session, now),
        no_shows=no_show_rates(session, since, now),
        open_alerts=open_alerts(session),
        sync=sync_health(session),
    )
