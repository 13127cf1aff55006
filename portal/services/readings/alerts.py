"""Remote-monitoring alerts: a reading outside the patient's thresholds opens an episode, and an
episode puts ONE item in the staff triage inbox however many out-of-range readings follow.

The episode ends when a later reading is back in range (the inbox item stays, marked, so staff
still see what happened) or when staff close the inbox item. The next out-of-range reading after
that starts a new episode and a new item. Only recent readings raise alerts: importing years of
history must not flood the inbox with episodes that ended long ago.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import (
    PatientReading,
    ReadingAlertEpisode,
    ReadingThreshold,
    TriageEvent,
    TriageStatus,
    User,
    saved_id,
)
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit, triage
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.permissions import require_permission
from portal.services.readings import units
from portal.services.rows import get_or_not_found

KIND = "reading_alert"
CATEGORY = "reading alerts"
LOOKBACK = timedelta(days=7)
BACK_IN_RANGE = "back_in_range"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Threshold:
    """Alert bounds in the measure's canonical unit; None means no alert on that side."""

    low: float | None = None
    high: float | None = None
    low2: float | None = None  # diastolic, for blood pressure
    high2: float | None = None

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.low, self.high, self.low2, self.high2))


# Defaults for home monitoring; a clinician overrides them per patient. Weight and steps have
# none: what matters there is the patient's own trend, which a clinician sets when it does.
DEFAULT_THRESHOLDS: dict[str, Threshold] = {
    units.BLOOD_PRESSURE: Threshold(low=90, high=160, low2=50, high2=100),
    units.GLUCOSE: Threshold(low=70, high=250),
    units.HEART_RATE: Threshold(low=40, high=130),
    units.SPO2: Threshold(low=90),
}


def _on_status_change(*, session: Session, ref_id: int, status: str, now: datetime) -> None:
    # Staff closing the inbox item resolves the episode; the next out-of-range reading opens
    # a new one (and a new item).
    episode = session.get(ReadingAlertEpisode, ref_id)
    if episode and status == TriageStatus.CLOSED and episode.closed_at is None:
        episode.closed_at = now
        episode.closed_reason = RESOLVED
        session.add(episode)


triage.register_kind(
    triage.KindSpec(
        kind=KIND, label="Reading alert", on_status_change=_on_status_change, work_page="readings"
    )
)


# --- thresholds ---------------------------------------------------------------------------


def _overrides(session: Session, patient_id: int) -> dict[str, ReadingThreshold]:
    rows = session.exec(
        select(ReadingThreshold).where(ReadingThreshold.patient_id == patient_id)
    ).all()
    return {r.measure: r for r in rows}


def effective_thresholds(patient_id: int, *, session: Session) -> dict[str, Threshold]:
    """Defaults, each replaced whole by the patient's override where a clinician set one."""
    result = dict(DEFAULT_THRESHOLDS)
    for measure, row in _overrides(session, patient_id).items():
        result[measure] = Threshold(row.low, row.high, row.low2, row.high2)
    return result


@dataclass(frozen=True)
class ThresholdRow:
    measure: str
    label: str
    unit: str
    threshold: Threshold
    default: Threshold
    overridden: bool


def list_thresholds(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> list[ThresholdRow]:
    """Every measure's thresholds for a patient (staff), with whether a clinician overrode it."""
    require_permission(
        actor, Action.READ_ANY_CHART, session=session, now=now, patient_id=patient_id
    )
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    overrides = _overrides(session, patient_id)
    rows = []
    for code, m in units.MEASURES.items():
        default = DEFAULT_THRESHOLDS.get(code, Threshold())
        row = overrides.get(code)
        current = Threshold(row.low, row.high, row.low2, row.high2) if row else default
        rows.append(ThresholdRow(code, m.label, m.unit, current, default, row is not None))
    log_read(actor, patient_id, session=session, category="viewed alert thresholds", now=now)
    return rows


def _check_bounds(
    low: float | None, high: float | None, m: units.Measure, plausible: tuple[float, float]
) -> None:
    for bound in (low, high):
        if bound is not None and not plausible[0] <= bound <= plausible[1]:
            raise InvalidInput(
                f"{m.label} thresholds must be between {plausible[0]:g} and {plausible[1]:g} "
                f"{m.unit}."
            )
    if low is not None and high is not None and low >= high:
        raise InvalidInput("The low threshold must be below the high one.")


def set_threshold(
    actor: User,
    patient_id: int,
    measure: str,
    *,
    session: Session,
    now: datetime,
    low: float | None = None,
    high: float | None = None,
    low2: float | None = None,
    high2: float | None = None,
) -> ReadingThreshold:
    """A clinician's per-patient thresholds for one measure (canonical units)."""
    require_permission(
        actor, Action.SET_READING_THRESHOLDS, session=session, now=now, patient_id=patient_id
    )
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    m = units.measure(measure)
    _check_bounds(low, high, m, m.plausible)
    if m.pair and m.plausible2 is not None:  # a paired measure always has its second range
        _check_bounds(low2, high2, m, m.plausible2)
    else:
        low2 = high2 = None
    row = _overrides(session, patient_id).get(measure) or ReadingThreshold(
        patient_id=patient_id, measure=measure
    )
    row.low, row.high, row.low2, row.high2 = low, high, low2, high2
    row.set_by_user_id = actor.id
    row.updated_at = now
    session.add(row)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="set_threshold",
        patient_id=patient_id,
        detail=f"{m.label}: low {low}, high {high}"
        + (f", diastolic low {low2}, high {high2}" if m.pair else ""),
        now=now,
    )
    session.commit()
    return row


def reset_threshold(
    actor: User, patient_id: int, measure: str, *, session: Session, now: datetime
) -> None:
    """Back to the clinic's default thresholds for one measure."""
    require_permission(
        actor, Action.SET_READING_THRESHOLDS, session=session, now=now, patient_id=patient_id
    )
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    row = _overrides(session, patient_id).get(measure)
    if row is not None:
        session.delete(row)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="reset_threshold",
        patient_id=patient_id,
        detail=units.measure(measure).label,
        now=now,
    )
    session.commit()


# --- evaluating readings ------------------------------------------------------------------


def breach(threshold: Threshold, value: float, value2: float | None = None) -> str | None:
    """Why a reading is out of range ('above 160'), or None when it is within the thresholds."""
    reasons = []
    if threshold.high is not None and value > threshold.high:
        reasons.append(f"above {threshold.high:g}")
    if threshold.low is not None and value < threshold.low:
        reasons.append(f"below {threshold.low:g}")
    if value2 is not None:
        if threshold.high2 is not None and value2 > threshold.high2:
            reasons.append(f"diastolic above {threshold.high2:g}")
        if threshold.low2 is not None and value2 < threshold.low2:
            reasons.append(f"diastolic below {threshold.low2:g}")
    return ", ".join(reasons) or None


def open_episode(patient_id: int, measure: str, *, session: Session) -> ReadingAlertEpisode | None:
    return session.exec(
        select(ReadingAlertEpisode).where(
            ReadingAlertEpisode.patient_id == patient_id,
            ReadingAlertEpisode.measure == measure,
            col(ReadingAlertEpisode.closed_at).is_(None),
        )
    ).first()


def _start_episode(
    session: Session, reading: PatientReading, reason: str, actor: User | None, now: datetime
) -> ReadingAlertEpisode | None:
    """Open an episode and its inbox item; None if a concurrent import opened one first."""
    episode = ReadingAlertEpisode(
        patient_id=reading.patient_id,
        measure=reading.measure,
        opened_at=now,
        first_reading_id=saved_id(reading),
        last_out_reading_id=saved_id(reading),
        last_out_at=reading.taken_at,
    )
    try:
        with session.begin_nested():
            session.add(episode)
            session.flush()
    except IntegrityError:
        return None
    label = units.MEASURES[reading.measure].label
    value = units.display(reading.measure, reading.value, reading.value2)
    triage.open_item(
        session=session,
        kind=KIND,
        ref_id=saved_id(episode),
        patient_id=reading.patient_id,
        summary=f"{label} {value} ({reason})",
        actor=actor,
        now=now,
        priority=1,
    )
    return episode


def _end_episode(
    session: Session, episode: ReadingAlertEpisode, reading: PatientReading, now: datetime
) -> None:
    episode.closed_at = now
    episode.closed_reason = BACK_IN_RANGE
    session.add(episode)
    item = triage._item_for(session, KIND, saved_id(episode))
    if item is not None:
        value = units.display(reading.measure, reading.value, reading.value2)
        session.add(
            TriageEvent(
                item_id=saved_id(item),
                at=now,
                action="back_in_range",
                detail=f"Back in range: {value} taken {reading.taken_at:%Y-%m-%d %H:%M} UTC",
            )
        )
        if not item.summary.startswith("Back in range"):
            item.summary = f"Back in range · {item.summary}"[:200]
            session.add(item)


def evaluate(
    patient_id: int,
    readings: list[PatientReading],
    *,
    session: Session,
    now: datetime,
    actor: User | None,
) -> int:
    """Run new readings through the alert rules; returns how many episodes were opened.

    The caller commits (the readings and their alerts land together).
    """
    recent = [r for r in readings if r.taken_at >= now - LOOKBACK]
    if not recent:
        return 0
    thresholds = effective_thresholds(patient_id, session=session)
    opened = 0
    for measure in sorted({r.measure for r in recent}):
        threshold = thresholds.get(measure)
        if threshold is None or threshold.empty:
            continue
        episode = open_episode(patient_id, measure, session=session)
        for reading in sorted(
            (r for r in recent if r.measure == measure), key=lambda r: (r.taken_at, r.id)
        ):
            reason = breach(threshold, reading.value, reading.value2)
            if reason:
                if episode is None:
                    episode = _start_episode(session, reading, reason, actor, now)
                    if episode is None:
                        episode = open_episode(patient_id, measure, session=session)
                    else:
                        opened += 1
                        continue
                if episode is not None:
                    episode.out_count += 1
                    if reading.taken_at >= episode.last_out_at:
                        episode.last_out_at = reading.taken_at
                        episode.last_out_reading_id = saved_id(reading)
                    session.add(episode)
            elif episode is not None and reading.taken_at > episode.last_out_at:
                _end_episode(session, episode, reading, now)
                episode = None
    session.flush()
    return opened


# --- the staff view of an alert ----------------------------------------------------------


@dataclass(frozen=True)
class AlertDetail:
    episode: ReadingAlertEpisode
    label: str
    threshold: Threshold
    readings: list[PatientReading]  # the measure's readings from a day before the episode on


def alert_detail(actor: User, episode_id: int, *, session: Session, now: datetime) -> AlertDetail:
    """What a staff member needs to work an alert: thresholds and the readings around it."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    episode = get_or_not_found(
        session, ReadingAlertEpisode, episode_id, "That alert no longer exists."
    )
    require_patient_access(actor, episode.patient_id, session=session, category=CATEGORY, now=now)
    first = session.get(PatientReading, episode.first_reading_id)
    since = (first.taken_at if first else episode.opened_at) - timedelta(days=1)
    readings = list(
        session.exec(
            select(PatientReading)
            .where(
                PatientReading.patient_id == episode.patient_id,
                PatientReading.measure == episode.measure,
                PatientReading.taken_at >= since,
            )
            .order_by(col(PatientReading.taken_at).desc())
            .limit(200)
        ).all()
    )
    threshold = effective_thresholds(episode.patient_id, session=session).get(
        episode.measure, Threshold()
    )
    log_read(
        actor,
        episode.patient_id,
        session=session,
        category=CATEGORY,
        detail=f"alert {episode.id}",
        now=now,
    )
    return AlertDetail(episode, units.MEASURES[episode.measure].label, threshold, readings)


@dataclass(frozen=True)
class AlertRow:
    episode: ReadingAlertEpisode
    label: str
    latest_text: str  # the latest out-of-range reading


def patient_alerts(
    actor: User, patient_id: int, *, session: Session, now: datetime, limit: int = 20
) -> list[AlertRow]:
    """A patient's alert episodes, open ones first, then newest (staff)."""
    require_permission(
        actor, Action.READ_ANY_CHART, session=session, now=now, patient_id=patient_id
    )
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    rows = session.exec(
        select(ReadingAlertEpisode, PatientReading)
        .join(PatientReading, col(PatientReading.id) == ReadingAlertEpisode.last_out_reading_id)
        .where(ReadingAlertEpisode.patient_id == patient_id)
        .order_by(
            col(ReadingAlertEpisode.closed_at).is_not(None),
            col(ReadingAlertEpisode.opened_at).desc(),
        )
        .limit(limit)
    ).all()
    log_read(
        actor,
        patient_id,
        session=session,
        category=CATEGORY,
        action="list",
        detail=f"{len(rows)} alerts",
        now=now,
    )
    return [
        AlertRow(
            episode,
            units.MEASURES[episode.measure].label,
            units.display(reading.measure, reading.value, reading.value2),
        )
        for episode, reading in rows
    ]


def open_alert_count(actor: User, *, session: Session) -> int:
    """Open alert episodes across the clinic (dashboard)."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=None)
    return len(
        session.exec(
            select(ReadingAlertEpisode.id).where(col(ReadingAlertEpisode.closed_at).is_(None))
        ).all()
    )
