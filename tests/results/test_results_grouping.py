"""One analyte is one test (serum and blood glucose), in one unit on its trend, or flagged."""

from datetime import UTC, datetime, timedelta

from db.models import Observation, Role
from portal.services.results import list_results, result_trend
from tests.factories import create_observation, create_patient, create_user

JAN = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def _glucose(session, patient, code, value, unit, days, **fields):
    fields.setdefault("ref_low", 70.0 if unit == "mg/dL" else 3.9)
    fields.setdefault("ref_high", 99.0 if unit == "mg/dL" else 5.5)
    return create_observation(
        session,
        patient,
        code=code,
        display="Glucose",
        value=value,
        unit=unit,
        effective_at=JAN + timedelta(days=days),
        **fields,
    )


def test_serum_and_blood_glucose_are_one_test_with_clear_labels(session, now):
    alice = create_patient(session)
    _glucose(session, alice, "2345-7", 92.0, "mg/dL", 0)  # serum or plasma
    _glucose(session, alice, "2339-0", 104.0, "mg/dL", 30)  # blood
    user = create_user(session, Role.PATIENT, patient=alice)
    table = list_results(user, alice.id, session=session, now=now)
    assert [t.name for t in table.tests] == ["Glucose"]
    assert [r.name for r in table.latest] == ["Glucose (blood)"]
    trend = result_trend(user, alice.id, table.tests[0].code, session=session, now=now)
    (series,) = trend.series
    assert [p.value for p in series.points] == [92.0, 104.0]
    # The table keeps each result's own specimen.
    assert [r.name for r in trend.history] == ["Glucose (blood)", "Glucose"]


def test_a_trend_converts_other_units_into_the_latest_results_unit(session, now):
    alice = create_patient(session)
    _glucose(session, alice, "14749-6", 5.5, "mmol/L", 0)
    _glucose(session, alice, "2345-7", 101.0, "mg/dL", 30)
    user = create_user(session, Role.PATIENT, patient=alice)
    trend = result_trend(user, alice.id, "2345-7", session=session, now=now)
    (series,) = trend.series
    assert series.unit == "mg/dL"
    assert [p.value_text for p in series.points] == ["99", "101"]
    assert series.points[0].reported == "5.5 mmol/L"
    assert trend.unconverted == {}
    # The lab's own values, in their own units, stay in the table.
    assert [(r.value_text, r.unit) for r in trend.history] == [
        ("101", "mg/dL"),
        ("5.5", "mmol/L"),
    ]


def test_units_without_a_known_factor_are_left_off_the_axis_and_counted(session, now):
    alice = create_patient(session)
    for days, unit in [(0, "mg/dL"), (30, "mmol/L"), (60, "mg/dL")]:
        create_observation(
            session,
            alice,
            code="99999-1",
            display="Clinic's own marker",
            value=5.0,
            unit=unit,
            effective_at=JAN + timedelta(days=days),
        )
    user = create_user(session, Role.PATIENT, patient=alice)
    trend = result_trend(user, alice.id, "99999-1", session=session, now=now)
    assert len(trend.series[0].points) == 2
    assert trend.unconverted == {"mmol/L": 1}
    assert len(trend.history) == 3


def test_egfr_and_urine_ph_spellings_are_one_unit(session, now):
    alice = create_patient(session)
    for days, unit in [(0, "mL/min/{1.73_m2}"), (30, "mL/min/1.73m2")]:
        create_observation(
            session,
            alice,
            code="33914-3" if days == 0 else "62238-1",
            display="eGFR",
            value=70.0 + days,
            unit=unit,
            ref_low=60.0,
            ref_high=None,
            effective_at=JAN + timedelta(days=days),
        )
    for days, unit in [(0, "[pH]"), (30, "pH")]:
        create_observation(
            session,
            alice,
            code="5803-2",
            display="pH of Urine by Test strip",
            value=6.0,
            unit=unit,
            ref_low=5.0,
            ref_high=8.0,
            effective_at=JAN + timedelta(days=days),
        )
    user = create_user(session, Role.PATIENT, patient=alice)
    table = list_results(user, alice.id, session=session, now=now)
    assert sorted(t.name for t in table.tests) == ["Urine pH", "eGFR (kidney filtration)"]
    for choice in table.tests:
        trend = result_trend(user, alice.id, choice.code, session=session, now=now)
        assert len(trend.series[0].points) == 2 and trend.unconverted == {}


def test_the_first_test_offered_has_numbers(session, now):
    alice = create_patient(session)
    create_observation(session, alice, value=6.1, effective_at=JAN)  # A1c
    create_observation(
        session,
        alice,
        code="5778-6",
        display="Color of Urine",
        value=None,
        value_string="Yellow",
        unit=None,
        ref_low=None,
        ref_high=None,
        effective_at=JAN + timedelta(days=10),
    )
    user = create_user(session, Role.PATIENT, patient=alice)
    table = list_results(user, alice.id, session=session, now=now)
    assert [(t.code, t.numeric) for t in table.tests] == [("5778-6", False), ("4548-4", True)]
    assert table.default_code == "4548-4"


def test_results_are_read_as_rows_not_orm_objects(session, now):
    alice = create_patient(session)
    for days in range(5):
        create_observation(
            session, alice, value=5.0 + days / 10, effective_at=JAN + timedelta(days)
        )
    user = create_user(session, Role.PATIENT, patient=alice)
    session.expunge_all()
    table = list_results(user, alice.id, session=session, now=now)
    trend = result_trend(user, alice.id, "4548-4", session=session, now=now)
    assert len(table.rows) == 5 and len(trend.history) == 5
    assert not [o for o in session.identity_map.values() if isinstance(o, Observation)]
