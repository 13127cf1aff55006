from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent, ObservationCategory, Role
from portal.errors import InvalidInput, NotYourRecord
from portal.services.results import BLOOD_PRESSURE, list_results, result_trend
from tests.factories import create_observation, create_patient, create_user, grant_proxy
from tests.factories_records import create_blood_pressure, create_vital

JAN = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def _audit(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_patient_cannot_read_other_patients_results(session, now):
    alice, bob = create_patient(session), create_patient(session)
    create_observation(session, bob, value=9.9)
    user = create_user(session, Role.PATIENT, patient=alice)
    with pytest.raises(NotYourRecord):
        list_results(user, bob.id, session=session, now=now)
    with pytest.raises(NotYourRecord):
        result_trend(user, bob.id, "4548-4", session=session, now=now)
    session.rollback()
    assert [(e.patient_id, e.outcome) for e in _audit(session)] == [
        (bob.id, "denied"),
        (bob.id, "denied"),
    ]


def test_patient_reads_own_results_latest_per_test(session, now):
    alice = create_patient(session)
    create_observation(session, alice, value=6.1, effective_at=JAN)
    create_observation(session, alice, value=5.2, effective_at=JAN + timedelta(days=90))
    create_observation(
        session,
        alice,
        code="2093-3",
        display="Cholesterol",
        value=180,
        unit="mg/dL",
        ref_low=None,
        ref_high=200,
        effective_at=JAN + timedelta(days=30),
    )
    user = create_user(session, Role.PATIENT, patient=alice)
    table = list_results(user, alice.id, session=session, now=now)
    assert [(r.name, r.value_text) for r in table.latest] == [
        ("Hemoglobin A1c", "5.2"),
        # LOINC 2093-3 reads as its familiar name, whatever display the EHR sent.
        ("Total cholesterol", "180"),
    ]
    assert [r.value_text for r in table.rows] == ["5.2", "180", "6.1"]
    latest_a1c = table.latest[0]
    assert (latest_a1c.unit, latest_a1c.reference_range, latest_a1c.flag) == ("%", "4–5.6", "")
    assert table.latest[1].reference_range == "≤ 200"
    assert [t.name for t in table.tests] == ["Hemoglobin A1c", "Total cholesterol"]


def test_results_are_audited_with_a_readable_category(session, now):
    alice = create_patient(session)
    user = create_user(session, Role.PATIENT, patient=alice)
    list_results(user, alice.id, session=session, now=now)
    list_results(user, alice.id, session=session, category="vital-signs", now=now)
    events = _audit(session)
    assert [(e.category, e.patient_id, e.outcome, e.at) for e in events] == [
        ("viewed test results", alice.id, "success", now),
        ("viewed vital signs", alice.id, "success", now),
    ]


def test_staff_read_is_audited(session, now):
    alice = create_patient(session)
    create_observation(session, alice)
    clinician = create_user(session, Role.CLINICIAN)
    table = list_results(clinician, alice.id, session=session, now=now)
    assert len(table.rows) == 1
    (event,) = _audit(session)
    assert (event.user_id, event.role, event.patient_id, event.category) == (
        clinician.id,
        "clinician",
        alice.id,
        "viewed test results",
    )


def test_proxy_reads_granted_patient_only(session, now):
    child, stranger = create_patient(session), create_patient(session)
    create_observation(session, child, value=5.0)
    create_observation(session, stranger, value=7.0)
    parent = create_user(session, Role.PROXY)
    grant_proxy(session, parent, child)
    assert [r.value for r in list_results(parent, child.id, session=session).rows] == [5.0]
    with pytest.raises(NotYourRecord):
        list_results(parent, stranger.id, session=session)


def test_withdrawn_results_are_never_shown(session):
    alice = create_patient(session)
    create_observation(session, alice, value=5.0, status="entered-in-error")
    create_observation(session, alice, value=5.1, status="final")
    user = create_user(session, Role.PATIENT, patient=alice)
    assert [r.value for r in list_results(user, alice.id, session=session).rows] == [5.1]


def test_results_are_split_by_category(session):
    alice = create_patient(session)
    create_observation(session, alice)
    create_vital(session, alice)
    user = create_user(session, Role.PATIENT, patient=alice)
    labs = list_results(user, alice.id, session=session, category=ObservationCategory.LABORATORY)
    vitals = list_results(user, alice.id, session=session, category="vital-signs")
    assert [r.name for r in labs.rows] == ["Hemoglobin A1c"]
    assert [r.name for r in vitals.rows] == ["Heart rate"]


def test_unknown_category_is_refused(session):
    alice = create_patient(session)
    user = create_user(session, Role.PATIENT, patient=alice)
    with pytest.raises(InvalidInput):
        list_results(user, alice.id, session=session, category="imaging")


def test_abnormal_flag_from_interpretation_and_from_range(session):
    alice = create_patient(session)
    create_observation(session, alice, code="a", value=5.0, interpretation="HH")
    create_observation(session, alice, code="b", value=3.0)  # below 4.0
    create_observation(session, alice, code="c", value=5.0, interpretation="N")
    create_observation(
        session, alice, code="d", value=None, value_string="Positive", interpretation="A"
    )
    user = create_user(session, Role.PATIENT, patient=alice)
    flags = {r.code: r.flag for r in list_results(user, alice.id, session=session).rows}
    assert flags == {"a": "Critical high", "b": "Low", "c": "", "d": "Abnormal"}


def test_trend_points_ordered_by_time_with_latest_reference_band(session, now):
    alice = create_patient(session)
    for days, value in [(60, 6.0), (0, 7.5), (30, 5.0)]:
        create_observation(
            session,
            alice,
            value=value,
            effective_at=JAN + timedelta(days=days),
            ref_high=6.0 if days == 60 else 5.6,
        )
    user = create_user(session, Role.PATIENT, patient=alice)
    trend = result_trend(user, alice.id, "4548-4", session=session, now=now)
    (series,) = trend.series
    assert [p.value for p in series.points] == [7.5, 5.0, 6.0]
    assert [p.abnormal for p in series.points] == [True, False, False]
    assert (series.ref_low, series.ref_high, series.unit) == (4.0, 6.0, "%")
    assert trend.name == "Hemoglobin A1c"
    assert [r.value for r in trend.history] == [6.0, 5.0, 7.5]
    assert _audit(session)[-1].category == "viewed result trend"


def test_blood_pressure_trend_has_systolic_and_diastolic(session):
    alice = create_patient(session)
    create_blood_pressure(session, alice, 118, 76, JAN)
    create_blood_pressure(session, alice, 142, 91, JAN + timedelta(days=7))
    user = create_user(session, Role.PATIENT, patient=alice)
    vitals = list_results(user, alice.id, session=session, category="vital-signs")
    assert [(t.code, t.name) for t in vitals.tests] == [(BLOOD_PRESSURE, "Blood pressure")]
    for code in (BLOOD_PRESSURE, "8480-6", "8462-4"):
        trend = result_trend(user, alice.id, code, session=session)
        assert trend.name == "Blood pressure"
        assert [(s.name, [p.value for p in s.points]) for s in trend.series] == [
            ("Systolic", [118, 142]),
            ("Diastolic", [76, 91]),
        ]
        assert [[p.abnormal for p in s.points] for s in trend.series] == [
            [False, True],
            [False, True],
        ]


def test_trend_of_text_results_has_history_but_no_points(session):
    alice = create_patient(session)
    create_observation(session, alice, code="x", value=None, value_string="Negative")
    user = create_user(session, Role.PATIENT, patient=alice)
    trend = result_trend(user, alice.id, "x", session=session)
    assert not trend.has_points
    assert [r.value_text for r in trend.history] == ["Negative"]


def test_familiar_names_replace_loinc_long_names_and_unknown_tests_keep_theirs():
    from portal.lab_names import familiar_test_name

    assert familiar_test_name("18262-6", "Cholesterol in LDL [Mass/volume] by Direct assay") == (
        "LDL cholesterol"
    )
    assert familiar_test_name("99999-9", "Clinic's own test") == "Clinic's own test"
    assert familiar_test_name("99999-9", None) == "99999-9"
