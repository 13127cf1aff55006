"""Test results and vital signs: the latest value of each test, the full history, and trends."""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression
from sqlmodel import Session, col
from sqlmodel.sql.expression import Select

from db.models import Observation, ObservationCategory, User
from portal.errors import InvalidInput
from portal.lab_names import analyte_codes, analyte_name, analyte_of, familiar_test_name
from portal.services import access
from portal.services.audited_reads import VIEWED_RESULTS, VIEWED_TREND, VIEWED_VITALS, log_read
from portal.services.result_flags import comparator_of, range_text, result_flag, value_text
from portal.services.result_numbers import format_computed
from portal.services.results_units import converter, same_unit

# A blood pressure is stored as two rows (see Observation); the portal shows them together.
SYSTOLIC_BP = "8480-6"
DIASTOLIC_BP = "8462-4"
BLOOD_PRESSURE = "85354-9"
_BP_CODES = (SYSTOLIC_BP, DIASTOLIC_BP)
_BP_SERIES_NAMES = {SYSTOLIC_BP: "Systolic", DIASTOLIC_BP: "Diastolic"}

# Results the lab withdrew are not results; patients must not see them.
HIDDEN_STATUSES = ("entered-in-error", "cancelled")

# The columns a results page shows: read as plain rows, not ORM objects (nothing is changed, and
# building hundreds of tracked objects was a fifth of the page's time).
_COLUMNS = (
    col(Observation.id),
    col(Observation.code),
    col(Observation.display),
    col(Observation.category),
    col(Observation.status),
    col(Observation.value),
    col(Observation.value_string),
    col(Observation.unit),
    col(Observation.ref_low),
    col(Observation.ref_high),
    col(Observation.interpretation),
    col(Observation.effective_at),
)

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
    """An entry of the 'pick a test' list; blood pressure is one entry for both numbers, and the
    codes of one analyte (serum and blood glucose) are one entry named after the analyte."""

    code: str
    name: str
    numeric: bool = True  # has numbers to chart


@dataclass(frozen=True)
class ResultsTable:
    category: str
    latest: list[ResultRow]  # one row per test, most recently measured test first
    rows: list[ResultRow]  # every result, newest first
    tests: list[TestChoice]

    @property
    def default_code(self) -> str | None:
        """The test shown first: the most recent one that has a chart."""
        numeric = next((t for t in self.tests if t.numeric), None)
        chosen = numeric or (self.tests[0] if self.tests else None)
        return chosen.code if chosen else None


@dataclass(frozen=True)
class TrendPoint:
    effective_at: datetime
    value: float
    value_text: str
    flag: str
    # What the lab reported ("5.5 mmol/L") when the point was converted into the chart's unit.
    reported: str = ""

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
    # Results in a unit the portal cannot convert into ``unit``: unit -> how many. They stay in
    # the table and are named under the chart, never drawn on an axis of another unit.
    unconverted: dict[str, int] = field(default_factory=dict)


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

    @property
    def unconverted(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for series in self.series:
            counts.update(series.unconverted)
        return dict(counts)


def to_result_row(obs: Any) -> ResultRow:
    """A result from an Observation or a row of its _COLUMNS."""
    return ResultRow(
        observation_id=obs.id,
        code=obs.code,
        name=familiar_test_name(obs.code, obs.display),
        category=obs.category,
        value=obs.value,
        value_text=value_text(obs.value, obs.value_string, obs.ref_low, obs.ref_high),
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


def _visible() -> ColumnElement[bool]:
    return col(Observation.status).not_in(HIDDEN_STATUSES)


def _select_columns() -> Select[Any]:
    """SELECT _COLUMNS. sqlmodel's ``select()`` is typed for up to four entities; with more it
    builds this same ``Select``, so it is built directly here."""
    return Select(*_COLUMNS)


def _newest_first() -> tuple[UnaryExpression[Any], UnaryExpression[Any]]:
    # NULLS LAST so an undated result never hides the latest dated value (PostgreSQL puts NULLs
    # first in DESC order, SQLite last; say it explicitly for both).
    return (col(Observation.effective_at).desc().nulls_last(), col(Observation.id).desc())


def _test_key(code: str) -> str:
    """What makes results one test: blood pressure's two codes, an analyte's codes, or a code."""
    if code in _BP_CODES:
        return BLOOD_PRESSURE
    analyte = analyte_of(code)
    return f"analyte:{analyte.key}" if analyte else code


def _charted(row: Any) -> bool:
    return row.value is not None and row.effective_at is not None


def _latest_per_test(rows: list[ResultRow]) -> list[ResultRow]:
    """The newest result of each test (each code of blood pressure; one per analyte)."""
    latest: dict[str, ResultRow] = {}
    for row in rows:
        latest.setdefault(row.code if row.code in _BP_CODES else _test_key(row.code), row)
    return list(latest.values())


def _test_choices(latest: list[ResultRow], rows: list[ResultRow]) -> list[TestChoice]:
    numeric = {_test_key(row.code) for row in rows if _charted(row)}
    choices: dict[str, TestChoice] = {}
    for row in latest:
        key = _test_key(row.code)
        if key in choices:
            continue
        name = "Blood pressure" if key == BLOOD_PRESSURE else analyte_name(row.code, row.name)
        code = BLOOD_PRESSURE if key == BLOOD_PRESSURE else row.code
        choices[key] = TestChoice(code, name, numeric=key in numeric)
    return list(choices.values())


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
        _select_columns()
        .where(Observation.patient_id == patient_id, Observation.category == category, _visible())
        .order_by(*_newest_first())
    ).all()
    rows = [to_result_row(o) for o in observations]
    latest = _latest_per_test(rows)
    log_read(user, patient_id, session=session, category=audit_category, now=now)
    return ResultsTable(
        category=category, latest=latest, rows=rows, tests=_test_choices(latest, rows)
    )


def _converted_point(
    obs: Any, row: ResultRow, unit: str, anchor: Any, convert: Callable[[float], float]
) -> TrendPoint:
    """A point in the chart's unit, remembering what the lab reported."""
    value = convert(obs.value)
    text = comparator_of(obs.value_string) + format_computed(value, anchor.ref_low, anchor.ref_high)
    reported = f"{row.value_text} {obs.unit or ''}".strip()
    return TrendPoint(obs.effective_at, value, text, row.flag, reported=reported)


def _series(code: str, name: str, observations: list[Any], analyte: str | None) -> TrendSeries:
    """One line in the unit of its latest charted result; other units converted when the portal
    knows the factor, else counted in ``unconverted`` and left off the axis."""
    charted = [o for o in observations if _charted(o)]
    anchor = charted[-1] if charted else (observations[-1] if observations else None)
    unit = (anchor.unit or "") if anchor else ""
    points: list[TrendPoint] = []
    unconverted: Counter[str] = Counter()
    for obs in charted:
        row = to_result_row(obs)
        if same_unit(obs.unit, unit):
            points.append(TrendPoint(obs.effective_at, obs.value, row.value_text, row.flag))
        elif convert := converter(analyte, obs.unit, unit):
            points.append(_converted_point(obs, row, unit, anchor, convert))
        else:
            unconverted[obs.unit or "no unit"] += 1
    return TrendSeries(
        code=code,
        name=name,
        unit=unit,
        ref_low=anchor.ref_low if anchor else None,
        ref_high=anchor.ref_high if anchor else None,
        points=points,
        unconverted=dict(unconverted),
    )


def result_trend(
    user: User, patient_id: int, code: str, *, session: Session, now: datetime | None = None
) -> Trend:
    """One test over time (oldest first) with the latest reference range; BP as two series.

    Every code of the test's analyte is one series (serum and blood glucose), in one unit.
    """
    access.require_patient_access(user, patient_id, session=session, category=VIEWED_TREND, now=now)
    blood_pressure = code in (*_BP_CODES, BLOOD_PRESSURE)
    codes = _BP_CODES if blood_pressure else analyte_codes(code)
    # One query, served by the (patient_id, code, effective_at) index. Rows of _COLUMNS.
    observations: Sequence[Any] = session.exec(
        _select_columns()
        .where(Observation.patient_id == patient_id, col(Observation.code).in_(codes), _visible())
        .order_by(col(Observation.effective_at).asc().nulls_first(), col(Observation.id).asc())
    ).all()
    analyte = analyte_of(code)
    if blood_pressure:
        name = "Blood pressure"
        series = [
            _series(c, _BP_SERIES_NAMES[c], [o for o in observations if o.code == c], None)
            for c in codes
        ]
    else:
        display = next((o.display for o in reversed(observations) if o.display), None)
        name = analyte_name(code, display)
        series = [_series(code, name, list(observations), analyte.key if analyte else None)]
    history = [to_result_row(o) for o in reversed(observations)]
    code = BLOOD_PRESSURE if blood_pressure else code
    # Imported here: the readings package builds its series from this module's dataclasses.
    from portal.services.readings.trend import home_reading_series

    readings = home_reading_series(patient_id, code, series, session=session)
    log_read(
        user, patient_id, session=session, category=VIEWED_TREND, detail=f"test {code}", now=now
    )
    return Trend(code=code, name=name, series=series, history=history, readings=readings)
