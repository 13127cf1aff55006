from datetime import UTC, datetime, timedelta

import pytest

from components.trend_chart import (
    ABNORMAL_COLOR,
    CLINIC,
    CLINIC_COLORS,
    HOME,
    HOME_COLORS,
    build_trend_chart,
    points_frame,
)
from portal.services.readings import entry, units
from portal.services.results import BLOOD_PRESSURE, result_trend
from tests.factories import create_observation
from tests.factories_records import create_blood_pressure
from tests.readings.helpers import add_reading, make_people

JAN = datetime(2026, 1, 10, 15, tzinfo=UTC)


def _add(people, session, now, measure, value, unit, when, value2=None):
    add_reading(
        session,
        people.alice_user,
        people.alice,
        measure,
        value,
        unit,
        taken_at=when,
        now=now,
        value2=value2,
    )


def test_weight_trend_shows_clinic_and_home_readings_on_one_axis(session, now):
    people = make_people(session)
    create_observation(
        session,
        people.alice,
        code="29463-7",
        display="Body weight",
        value=80,
        unit="kg",
        category="vital-signs",
        ref_low=None,
        ref_high=None,
        effective_at=JAN,
    )
    _add(people, session, now, units.WEIGHT, 172, "lb", JAN + timedelta(days=30))
    trend = result_trend(people.alice_user, people.alice.id, "29463-7", session=session, now=now)
    [home] = trend.readings
    assert home.name == "Weight (home)"
    assert home.unit == "kg"
    assert home.points[0].value == pytest.approx(78.02, abs=0.01)
    frame = points_frame(trend)
    assert list(frame["origin"]) == [CLINIC, HOME]
    spec = build_trend_chart(trend).to_dict()
    marks = [layer["mark"] for layer in spec["layer"]]
    assert {"type": "point", "shape": "square", "filled": False, "size": 60, "opacity": 0.9} in [
        m for m in marks if isinstance(m, dict)
    ]
    # Two series now: the legend names both.
    legends = [
        layer["encoding"]["color"].get("legend")
        for layer in spec["layer"]
        if "color" in layer.get("encoding", {}) and "field" in layer["encoding"]["color"]
    ]
    assert any(legend is not None for legend in legends)
    scale = next(
        layer["encoding"]["color"]["scale"]
        for layer in spec["layer"]
        if "scale" in layer.get("encoding", {}).get("color", {})
    )
    assert scale == {
        "domain": ["Weight", "Weight (home)"],
        "range": [CLINIC_COLORS[0], HOME_COLORS[0]],
    }
    assert ABNORMAL_COLOR not in scale["range"]


def test_period_cut_leaves_out_older_points(session, now):
    people = make_people(session)
    create_observation(
        session,
        people.alice,
        code="29463-7",
        value=80,
        unit="kg",
        ref_low=None,
        ref_high=None,
        effective_at=JAN,
    )
    _add(people, session, now, units.WEIGHT, 79, "kg", now - timedelta(days=3))
    trend = result_trend(people.alice_user, people.alice.id, "29463-7", session=session, now=now)

    def rows(chart):
        return sum(len(data) for data in chart.to_dict()["datasets"].values())

    assert rows(build_trend_chart(trend)) == 2
    assert rows(build_trend_chart(trend, since=now - timedelta(days=30))) == 1


def test_blood_pressure_home_readings_split_into_systolic_and_diastolic(session, now):
    people = make_people(session)
    create_blood_pressure(session, people.alice, 130, 85, JAN)
    _add(people, session, now, units.BLOOD_PRESSURE, 124, "mmHg", JAN + timedelta(days=2), 79)
    trend = result_trend(
        people.alice_user, people.alice.id, BLOOD_PRESSURE, session=session, now=now
    )
    assert [s.name for s in trend.readings] == ["Systolic (home)", "Diastolic (home)"]
    assert [s.points[0].value for s in trend.readings] == [124, 79]


def test_heart_rate_in_beats_per_minute_takes_home_readings(session, now):
    people = make_people(session)
    create_observation(
        session, people.alice, code="8867-4", display="Heart rate", value=70, unit="beats/min"
    )
    _add(people, session, now, units.HEART_RATE, 66, "bpm", now)
    trend = result_trend(people.alice_user, people.alice.id, "8867-4", session=session, now=now)
    assert [p.value for p in trend.readings[0].points] == [66]


def test_tests_without_a_home_measure_have_no_home_series(session, now):
    people = make_people(session)
    create_observation(session, people.alice)  # A1c
    _add(people, session, now, units.WEIGHT, 70, "kg", now)
    trend = result_trend(people.alice_user, people.alice.id, "4548-4", session=session, now=now)
    assert trend.readings == []
    assert set(points_frame(trend)["origin"]) == {CLINIC}


def test_clinic_unit_the_portal_cannot_convert_leaves_home_readings_off(session, now):
    people = make_people(session)
    create_observation(session, people.alice, code="29463-7", value=12, unit="[stone_av]")
    _add(people, session, now, units.WEIGHT, 70, "kg", now)
    trend = result_trend(people.alice_user, people.alice.id, "29463-7", session=session, now=now)
    assert trend.readings == []


def test_many_watch_readings_are_shown_as_daily_averages(session, now):
    people = make_people(session)
    create_observation(session, people.alice, code="8867-4", value=70, unit="/min")
    items = [
        entry.ReadingInput(units.HEART_RATE, 60 + n % 2 * 10, "bpm", now - timedelta(minutes=n))
        for n in range(1200)
    ]
    entry.import_readings(
        people.alice_user,
        people.alice.id,
        items,
        session=session,
        now=now,
        source="apple_health",
        label="export.xml",
    )
    trend = result_trend(people.alice_user, people.alice.id, "8867-4", session=session, now=now)
    points = trend.readings[0].points
    assert 1 <= len(points) <= 2
    assert all(p.value == pytest.approx(65, abs=0.1) for p in points)
