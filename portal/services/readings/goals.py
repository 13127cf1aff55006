"""Health goals: a target the patient works towards, set by the patient or with their care team,
and the progress towards it drawn from home readings (and, for A1c, the clinic's lab results)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlmodel import Session, col, select

from db.models import GoalStatus, HealthGoal, Observation, PatientReading, User
from portal.config import get_settings
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.permissions import require_permission
from portal.services.readings import units
from portal.services.readings.entry import _readings_between
from portal.services.rows import get_or_not_found

CATEGORY = "goals"
VIEWED_GOALS = "viewed health goals"
A1C_LOINC = "4548-4"
AT_MOST, AT_LEAST = "at_most", "at_least"
PROGRESS_DAYS = 90


@dataclass(frozen=True)
class GoalKind:
    code: str
    label: str  # 'Weight at or under'
    measure: str | None  # patient reading measure; None for A1c (clinic lab)
    direction: str
    unit: str
    plausible: tuple[float, float]
    daily_total: bool = False  # steps: the day's sum is what counts


GOAL_KINDS: dict[str, GoalKind] = {
    k.code: k
    for k in (
        GoalKind("weight_at_most", "Weight at or under", units.WEIGHT, AT_MOST, "kg", (20, 400)),
        GoalKind("weight_at_least", "Weight at or over", units.WEIGHT, AT_LEAST, "kg", (20, 400)),
        GoalKind(
            "steps_per_day",
            "Steps per day, at least",
            units.STEPS,
            AT_LEAST,
            "steps",
            (100, 100_000),
            daily_total=True,
        ),
        GoalKind(
            "bp_under", "Blood pressure under", units.BLOOD_PRESSURE, AT_MOST, "mmHg", (80, 200)
        ),
        GoalKind("a1c_under", "A1c under", None, AT_MOST, "%", (4, 15)),
    )
}


def goal_kind(code: str) -> GoalKind:
    try:
        return GOAL_KINDS[code]
    except KeyError:
        raise InvalidInput("Please choose a kind of goal from the list.") from None


def set_goal(
    actor: User,
    patient_id: int,
    *,
    session: Session,
    now: datetime,
    kind: str,
    target: float,
    target2: float | None = None,
    unit: str | None = None,
    note: str = "",
) -> HealthGoal:
    """A new goal (replacing an active goal of the same kind). Weight may be given in lb."""
    require_permission(
        actor, Action.SET_READING_GOALS, session=session, now=now, patient_id=patient_id
    )
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    spec = goal_kind(kind)
    if spec.measure == units.WEIGHT and unit:
        target = units.to_canonical(units.WEIGHT, target, unit)
    low, high = spec.plausible
    if not low <= target <= high:
        raise InvalidInput(f"Please choose a target between {low:g} and {high:g} {spec.unit}.")
    if spec.measure == units.BLOOD_PRESSURE:
        if target2 is None or not 40 <= target2 <= 130 or target2 >= target:
            raise InvalidInput("Please give both numbers, e.g. 130 over 80.")
    else:
        target2 = None
    if len(note) > 500:
        raise InvalidInput("Please keep the note under 500 characters.")
    for old in session.exec(
        select(HealthGoal).where(
            HealthGoal.patient_id == patient_id,
            HealthGoal.kind == kind,
            HealthGoal.status == GoalStatus.ACTIVE,
        )
    ).all():
        old.status = GoalStatus.STOPPED
        old.updated_at = now
        session.add(old)
    goal = HealthGoal(
        patient_id=patient_id,
        kind=kind,
        target=target,
        target2=target2,
        unit=spec.unit,
        note=note.strip(),
        set_by_user_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(goal)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="set_goal",
        patient_id=patient_id,
        detail=f"{spec.label} {target:g}" + (f"/{target2:g}" if target2 else ""),
        now=now,
    )
    session.commit()
    return goal


def stop_goal(actor: User, goal_id: int, *, session: Session, now: datetime) -> None:
    """Stop following a goal (it stays in the history)."""
    require_permission(actor, Action.SET_READING_GOALS, session=session, now=now)
    goal = get_or_not_found(session, HealthGoal, goal_id, "That goal no longer exists.")
    require_patient_access(actor, goal.patient_id, session=session, category=CATEGORY, now=now)
    goal.status = GoalStatus.STOPPED
    goal.updated_at = now
    session.add(goal)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="stop_goal",
        patient_id=goal.patient_id,
        detail=goal_kind(goal.kind).label,
        now=now,
    )
    session.commit()


@dataclass(frozen=True)
class ProgressPoint:
    when: datetime
    value: float
    value2: float | None = None


@dataclass(frozen=True)
class GoalProgress:
    goal: HealthGoal
    kind: GoalKind
    points: list[ProgressPoint]  # oldest first; steps: one point per day (the day's total)
    latest: ProgressPoint | None
    met: bool | None  # None when there is nothing to judge yet
    target_text: str

    @property
    def status_text(self) -> str:
        if self.latest is None:
            return "No readings yet"
        return "On target" if self.met else "Not there yet"


def meets(kind: GoalKind, goal: HealthGoal, value: float, value2: float | None = None) -> bool:
    if kind.direction == AT_LEAST:
        return value >= goal.target
    ok = value < goal.target if kind.code in ("bp_under", "a1c_under") else value <= goal.target
    if goal.target2 is not None and value2 is not None:
        ok = ok and value2 < goal.target2
    return ok


def _target_text(kind: GoalKind, goal: HealthGoal) -> str:
    if goal.target2 is not None:
        return f"{kind.label} {goal.target:g}/{goal.target2:g} {kind.unit}"
    decimals = 1 if kind.unit in ("kg", "%") else 0
    return f"{kind.label} {goal.target:.{decimals}f} {kind.unit}"


def _daily_totals(readings: Sequence[PatientReading], tz: tzinfo) -> list[ProgressPoint]:
    totals: dict[date, float] = defaultdict(float)
    for r in readings:
        totals[r.taken_at.astimezone(tz).date()] += r.value
    return [
        ProgressPoint(datetime.combine(day, datetime.min.time(), tzinfo=tz), total)
        for day, total in sorted(totals.items())
    ]


def _points(
    session: Session, goal: HealthGoal, kind: GoalKind, since: datetime
) -> list[ProgressPoint]:
    if kind.measure is None:
        rows = session.exec(
            select(Observation)
            .where(
                Observation.patient_id == goal.patient_id,
                Observation.code == A1C_LOINC,
                col(Observation.status).not_in(("entered-in-error", "cancelled")),
                col(Observation.value).is_not(None),
                col(Observation.effective_at).is_not(None),
            )
            .order_by(col(Observation.effective_at))
        ).all()
        return [
            ProgressPoint(o.effective_at, o.value)
            for o in rows
            if o.effective_at is not None and o.value is not None  # as the query asked
        ]
    readings = _readings_between(goal.patient_id, (kind.measure,), session=session, since=since)
    if kind.daily_total:
        return _daily_totals(readings, get_settings().tz)
    return [ProgressPoint(r.taken_at, r.value, r.value2) for r in readings]


def goals_with_progress(
    actor: User,
    patient_id: int,
    *,
    session: Session,
    now: datetime,
    days: int = PROGRESS_DAYS,
) -> list[GoalProgress]:
    """Active goals with their recent points and whether the latest meets the target."""
    require_patient_access(actor, patient_id, session=session, category=VIEWED_GOALS, now=now)
    goals = session.exec(
        select(HealthGoal)
        .where(HealthGoal.patient_id == patient_id, HealthGoal.status == GoalStatus.ACTIVE)
        .order_by(col(HealthGoal.created_at))
    ).all()
    since = now - timedelta(days=days)
    result = []
    for goal in goals:
        kind = goal_kind(goal.kind)
        points = _points(session, goal, kind, since)
        latest = points[-1] if points else None
        met = meets(kind, goal, latest.value, latest.value2) if latest else None
        result.append(GoalProgress(goal, kind, points, latest, met, _target_text(kind, goal)))
    log_read(actor, patient_id, session=session, category=VIEWED_GOALS, now=now)
    return result
