"""Test results as a patient reads them (issue 12 item 9) and what one click builds (issue 17):
the real app through tests/harness.py."""

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from sqlmodel import select

from components import session_keys as keys
from db.models import AuditEvent, Role
from tests.factories import create_observation, create_patient, create_user
from tests.harness import open_app, run_ok, table_values, texts

RESULTS = "pages/results.py"


@pytest.fixture
def alice(app_env, session):
    patient = create_patient(session, given_name="Alice", family_name="Archer")
    create_user(session, Role.PATIENT, patient, username="alice")
    return patient


def _days_ago(days: int) -> datetime:
    # Pages use the wall clock, so the record is placed around it.
    return datetime.now(UTC) - timedelta(days=days)


def _lab(session, patient, code, value, *, days, unit="mg/dL", low=None, high=None, **fields):
    return create_observation(
        session,
        patient,
        code=code,
        display=fields.pop("display", code),
        value=value,
        unit=unit,
        ref_low=low,
        ref_high=high,
        effective_at=_days_ago(days),
        **fields,
    )


def _picker(at, patient):
    return at.selectbox(key=f"{keys.RESULTS_SELECTED_CODE}:laboratory:{patient.id}")


def _chart_rows(at) -> list[dict]:
    """Every data row the page's charts carry (Streamlit sends them as Arrow tables)."""
    rows = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    return rows


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def test_the_first_test_shown_has_a_chart(session, alice):
    _lab(session, alice, "4548-4", 6.1, days=40, unit="%", low=4.0, high=5.6)
    # The newest result is a word, not a number: it must not be the first test shown.
    _lab(session, alice, "5778-6", None, days=2, unit=None, value_string="Yellow")
    at = open_app("alice", RESULTS)
    assert _picker(at, alice).value == "4548-4"
    assert len(at.get("vega_lite_chart")) == 1
    assert "These results are not numbers, so there is no chart; see the table below." not in (
        texts(at)
    )


def test_values_show_the_labs_precision_not_ten_digits(session, alice):
    _lab(session, alice, "2345-7", 87.93820281, days=3, low=70.0, high=99.0, display="Glucose")
    at = open_app("alice", RESULTS)
    cells = table_values(at)
    assert "88" in cells
    assert not [c for c in cells if "87.938" in c]


def test_an_upper_limit_alone_is_shaded_and_named(session, alice):
    for days, value in ((200, 131.0), (20, 96.0)):
        _lab(session, alice, "18262-6", value, days=days, high=100.0, display="LDL")
    at = open_app("alice", RESULTS)
    assert "Shaded: the normal range, 100 mg/dL or less." in texts(at)
    (spec,) = _charts(at)
    assert any(layer["mark"] == {"type": "rect", "opacity": 0.12} for layer in spec["layer"])


def test_serum_and_blood_versions_are_one_test(session, alice):
    _lab(session, alice, "2345-7", 92.0, days=90, low=70.0, high=99.0, display="Glucose S/P")
    _lab(session, alice, "2339-0", 104.0, days=10, low=70.0, high=99.0, display="Glucose Bld")
    at = open_app("alice", RESULTS)
    picker = _picker(at, alice)
    assert picker.options == ["Glucose"]
    history = at.dataframe[1].value
    assert list(history["Test"]) == ["Glucose (blood)", "Glucose"]


def test_units_are_converted_or_visibly_left_off_never_mixed(session, alice):
    _lab(session, alice, "14749-6", 5.5, days=300, unit="mmol/L", low=3.9, high=5.5)
    _lab(session, alice, "2345-7", 101.0, days=30, low=70.0, high=99.0)
    at = open_app("alice", RESULTS)
    results = [row["result"] for row in _chart_rows(at) if "result" in row]
    assert results == ["99 mg/dL (lab reported 5.5 mmol/L)", "101 mg/dL"]
    assert not at.warning

    _lab(session, alice, "99999-1", 1.0, days=60, unit="U/L", display="Clinic marker")
    _lab(session, alice, "99999-1", 2.0, days=1, unit="IU/mL", display="Clinic marker")
    run_ok(at)
    _picker(at, alice).set_value("99999-1")
    run_ok(at)
    (warning,) = [w.value for w in at.warning]
    assert "cannot be converted to IU/mL" in warning and "1 in U/L" in warning


def _categories(session, user_id) -> list[str]:
    session.expire_all()
    return [
        e.category for e in session.exec(select(AuditEvent).where(AuditEvent.user_id == user_id))
    ]


def test_only_the_chosen_view_is_built(session, alice):
    _lab(session, alice, "4548-4", 6.1, days=40, unit="%", low=4.0, high=5.6)
    at = open_app("alice", RESULTS)
    user_id = session.exec(select(AuditEvent.user_id).where(AuditEvent.username == "alice")).first()
    # Lab results shown: the vitals were neither read nor audited.
    assert "viewed vital signs" not in _categories(session, user_id)
    at.button_group(key="results_view").set_value("vital-signs")
    run_ok(at)
    assert "viewed vital signs" in _categories(session, user_id)
    assert [i.value for i in at.info] == ["No vital signs recorded yet."]


def test_a_cached_chart_still_checks_and_audits_each_viewer(session, alice):
    _lab(session, alice, "4548-4", 6.1, days=40, unit="%", low=4.0, high=5.6)
    clinician = create_user(session, Role.CLINICIAN, username="drx")
    first = _charts(open_app("alice", RESULTS))
    at = open_app("drx", RESULTS, **{keys.STAFF_OPEN_PATIENT_ID: alice.id})
    assert _charts(at) == first  # the same data draws the same (cached) chart
    assert "viewed result trend" in _categories(session, clinician.id)
    stranger = create_patient(session)
    create_user(session, Role.PATIENT, stranger, username="bob")
    refused = open_app("bob", RESULTS, **{keys.STAFF_OPEN_PATIENT_ID: alice.id})
    assert not refused.get("vega_lite_chart")
