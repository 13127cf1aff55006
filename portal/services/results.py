"""Test results and vital signs: the latest value of each test, the full history, and trends."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from db.models import Observation, ObservationCategory, User
from portal.errors import InvalidInput
from portal.lab_names import familiar_test_name
from portal.services import access
from portal.services.audited_reads import VIEWED_RESULTS, VIEWED_TREND, VIEWED_VITALS, log_read
from portal.services.result_flags import range_text, result_flag, value_text

# A blood pressure is stored as two rows (see Observation); the portal shows them together.
SYSTOLIC_BP = "8480-6"
DIASTOLIC_BP = "8462-4"
BLOOD_PRESSURE = "85354-9"
_BP_CODES = (SYSTOLIC_BP, DIASTOLIC_BP)
_BP_SERIES_NAMES = {SYSTOLIC_BP: "Systolic", DIASTOLIC_BP: "Diastolic"}

# Results the lab withdrew are not results; patients must not see them.
HIDDEN_STATUSES = ("entered-in-error", "cancelled")

_AUDIT_CATEGORY = {
    ObservationCategory.LABORATORY.value: VIEWED_RESULTS,
    ObservationCategory.VITAL_SIGNS.value: VIEWED_VITALS,
}


@dataclass(frozen=True)
class ResultRow:
    """One result as a patient reads it."""

    observation_id: int
    code: str
    name: str
    category: str
    value: float | None
    value_text: str
    unit: str
    reference_range: str
    flag: str  # '' when in range, else 'High', 'Low', 'Critical high', ...
    effective_at: datetime | None
    status: str

    @property
    def abnormal(self) -> bool:
        return bool(self.flag)


@dataclass(frozen=True)
class TestChoice:
    """An entry of the 'pick a test' list; blood pressure is one entry for both numbers."""

    code: str
    name: str


@dataclass(frozen=True)
class ResultsTable:
    category: str
    latest: list[ResultRow]  # one row per test, most recently measured test first
    rows: list[ResultRow]  # every result, newest first
    tests: list[TestChoice]


@dataclass(frozen=True)
class TrendPoint:
    effective_at: datetime
    value: float
    value_text: str
    flag: str

    @property
    def abnormal(self) -> bool:
        return bool(self.flag)


@dataclass(frozen=True)
class TrendSeries:
    code: str
    name: str
    unit: str
    ref_low: float | None  # the range of the latest point: ranges change when a lab changes
    ref_high: float | None
    points: list[TrendPoint]  # oldest first


@dataclass(frozen=True)
class Trend:
    code: str
    name: str
    series: list[TrendSeries]  # two for blood pressure (systolic, diastolic), else one
    history: list[ResultRow]  # every result of the test, newest first, for the table
    # The patient's own readings of the same measure (home devices), in the clinic's unit.
    readings: list[TrendSeries] = field(default_factory=list)

    @property
    def has_points(self) -> bool:
        return any(s.points for s in (*self.series, *self.readings))


def to_result_row(obs: Observation) -> ResultRow:
    return ResultRow(
        observation_id=obs.id,
        code=obs.code,
        name=familiar_test_name(obs.code, obs.display),
        category=obs.category,
        value=obs.value,
        value_text=value_text(obs.value, obs.value_string),
        unit=obs.unit or "",
        reference_range=range_text(obs.ref_low, obs.ref_high),
        flag=result_flag(
            value=obs.value,
            value_string=obs.value_string,
            ref_low=obs.ref_low,
            ref_high=obs.ref_high,
            interpretation=obs.interpretation,
        ),
        effective_at=obs.effective_at,
        status=obs.status,
    )


def _visible():
    return Observation.status.not_in(HIDDEN_STATUSES)


def _newest_first():
    # NULLS LAST so an undated result never hides the latest dated value (PostgreSQL puts NULLs
    # first in DESC order, SQLite last; say it explicitly for both).
    return (Observation.effective_at.desc().nulls_last(), Observation.id.desc())


def _test_choices(latest: list[ResultRow]) -> list[TestChoice]:
    choices: list[TestChoice] = []
    for row in latest:
        if row.code in _BP_CODES:
            if all(c.code != BLOOD_PRESSURE for c in choices):
                choices.append(TestChoice(BLOOD_PRESSURE, "Blood pressure"))
        else:
            choices.append(TestChoice(row.code, row.name))
    return choices


def list_results(
    user: User,
    patient_id: int,
    *,
    session: Session,
    category: str = ObservationCategory.LABORATORY,
    now: datetime | None = None,
) -> ResultsTable:
    """Latest value per test and every result of one category (laboratory or vital-signs)."""
    category = str(category)
    if category not in _AUDIT_CATEGORY:
        raise InvalidInput(f"Unknown result category: {category}")
    audit_category = _AUDIT_CATEGORY[category]
    access.require_patient_access(
        user, patient_id, session=session, category=audit_category, now=now
    )
    # One query, served by the (patient_id, category, effective_at) index.
    observations = session.exec(
        select(Observation)
        .where(Observation.patient_id == patient_id, Observation.category == category, _visible())
        .order_by(*_newest_first())
    ).all()
    rows = [to_result_row(o) for o in observations]
    latest_by_code: dict[str, ResultRow] = {}
    for row in rows:
        latest_by_code.setdefault(row.code, row)
    latest = list(latest_by_code.values())
    log_read(user, patient_id, session=session, category=audit_category, now=now)
    return ResultsTable(category=category, latest=latest, rows=rows, tests=_test_choices(latest))


def _series(code: str, name: str, observations: list[Observation]) -> TrendSeries:
    charted = [o for o in observations if o.value is not None and o.effective_at is not None]
    latest = observations[-1] if observations else None
    points = []
    for obs in charted:
        row = to_result_row(obs)
        points.append(TrendPoint(obs.effective_at, obs.value, row.value_text, row.flag))
    return TrendSeries(
        code=code,
        name=name,
        unit=(latest.unit or "") if latest else "",
        ref_low=latest.ref_low if latest else None,
        ref_high=latest.ref_high if latest else None,
        points=points,
    )


def result_trend(
    user: User, patient_id: int, code: str, *, session: Session, now: datetime | None = None
) -> Trend:
    """One test over time (oldest first) with the latest reference range; BP as two series."""
    access.require_patient_access(user, patient_id, session=session, category=VIEWED_TREND, now=now)
    codes = _BP_CODES if code in (*_BP_CODES, BLOOD_PRESSURE) else (code,)
    # One query, served by the (patient_id, code, effective_at) index.
    observations = session.exec(
        select(Observation)
        .where(Observation.patient_id == patient_id, Observation.code.in_(codes), _visible())
        .order_by(Observation.effective_at.asc().nulls_first(), Observation.id.asc())
    ).all()
    by_code = {c: [o for o in observations if o.code == c] for c in codes}
    if len(codes) > 1:
        name = "Blood pressure"
        series = [_series(c, _BP_SERIES_NAMES[c], by_code[c]) for c in codes]
    else:
        display = next((o.display for o in reversed(observations) if o.display), None)
        name = familiar_test_name(code, display)
        series = [_series(code, name, by_code[code])]
    history = [to_result_row(o) for o in reversed(observations)]
    code = BLOOD_PRESSURE if len(codes) > 1 else code
    # Imported here: the readings package builds its series from this module's dataclasses.
    from portal.services.readings.trend import home_reading_series

    readings = home_reading_series(patient_id, code, series, session=session)
    log_read(
        user, patient_id, session=session, category=VIEWED_TREND, detail=f"test {code}", now=now
    )
    return Trend(code=code, name=name, series=series, history=history, readings=readings)
