"""The patient's own readings beside the clinic's results on one trend chart.

A clinic result code maps to a reading measure (LOINC weight, BP, glucose, heart rate, SpO2);
readings are converted into the unit of the clinic's series so both share one axis. A reading
measure the clinic's unit cannot express (unknown unit) is left off rather than mis-scaled.
"""

from collections import defaultdict
from datetime import date, datetime

from sqlmodel import Session

from portal.config import get_settings
from portal.services.readings import codes, units
from portal.services.readings.entry import _readings_between
from portal.services.results import TrendPoint, TrendSeries

HOME_SUFFIX = " (home)"
# Past this many readings a chart shows each day's average (a watch logs heart rate every few
# minutes; thousands of points help nobody and slow the browser).
MAX_POINTS = 1000


def _daily_means(points: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    tz = get_settings().tz
    days: dict[date, list[float]] = defaultdict(list)
    for when, value in points:
        days[when.astimezone(tz).date()].append(value)
    return [
        (datetime.combine(day, datetime.min.time(), tzinfo=tz).replace(hour=12), sum(v) / len(v))
        for day, v in sorted(days.items())
    ]


def _series(name: str, unit: str, raw: list[tuple[datetime, float]]) -> TrendSeries:
    if len(raw) > MAX_POINTS:
        raw = _daily_means(raw)
    points = [TrendPoint(when, value, f"{value:.1f}".removesuffix(".0"), "") for when, value in raw]
    return TrendSeries(
        code="home", name=name + HOME_SUFFIX, unit=unit, ref_low=None, ref_high=None, points=points
    )


def home_reading_series(
    patient_id: int, code: str, clinic_series: list[TrendSeries], *, session: Session
) -> list[TrendSeries]:
    """Reading series matching a clinic trend (empty when the code has no reading measure).

    The caller has checked access and audits the trend read.
    """
    measure = codes.measure_for_clinic_code(code)
    if measure is None or not clinic_series:
        return []
    readings = _readings_between(patient_id, (measure,), session=session)
    if not readings:
        return []
    canonical = units.MEASURES[measure].unit
    result = []
    # Blood pressure: clinic series are [systolic, diastolic]; a reading carries both values.
    for index, series in enumerate(
        clinic_series[:2] if measure == units.BLOOD_PRESSURE else [clinic_series[0]]
    ):
        unit = series.unit or canonical
        raw = []
        for r in readings:
            value = r.value if index == 0 else r.value2
            if value is None:
                continue
            converted = units.from_canonical(measure, value, unit)
            if converted is None:
                break
            raw.append((r.taken_at, converted))
        else:
            result.append(_series(series.name, unit, raw))
    return result
