"""Home, Health summary, Test results and Patient lookup, as every role that may see them.

Each patient's record has words no other record has (Alice: diabetes and metformin; Bob: asthma
and albuterol), so a leak of one record into another's page is a failing assertion.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from components import session_keys as keys
from db.models import (
    STAFF_ROLES,
    CareGoal,
    CarePlan,
    Device,
    ImagingStudy,
    Observation,
    Patient,
    Procedure,
    Role,
    User,
)
from tests.factories import create_observation, create_patient, create_user, grant_proxy
from tests.factories_records import (
    create_allergy,
    create_appointment,
    create_condition,
    create_immunization,
    create_medication,
    create_vital,
)
from tests.harness import force_page, goto
from tests.pages.conftest import click, run_ok, table_values, texts

HOME = "pages/home.py"
SUMMARY = "pages/health_summary.py"
RESULTS = "pages/results.py"
LOOKUP = "pages/patient_lookup.py"
REFUSAL = "You do not have access to this patient's record."
STAFF_ONLY = "This page is for clinic staff."


@dataclass
class Records:
    alice: Patient
    bob: Patient
    carol: Patient  # Alice's child: the proxy sees Alice and Carol
    alice_user: User
    bob_user: User
    proxy: User
    staff: dict[Role, User]


def _record(session, patient, *, problem, medication, allergy, a1c, when):
    create_condition(session, patient, display=problem)
    create_medication(session, patient, display=medication, status="active")
    create_allergy(session, patient, display=allergy)
    create_immunization(session, patient)
    for days, value in ((400, a1c - 0.8), (200, a1c - 0.4), (5, a1c)):
        create_observation(session, patient, value=value, effective_at=when - timedelta(days=days))
    create_vital(session, patient, effective_at=when - timedelta(days=5))


@pytest.fixture
def records(session) -> Records:
    # Pages use the wall clock, so the record is placed around it.
    when = datetime.now(UTC)
    alice = create_patient(session, given_name="Alice", family_name="Archer", mrn="MRN-ALICE")
    bob = create_patient(session, given_name="Bob", family_name="Baker", mrn="MRN-BOB")
    carol = create_patient(session, given_name="Carol", family_name="Archer", mrn="MRN-CAROL")
    _record(
        session,
        alice,
        problem="Type 2 diabetes mellitus",
        medication="Metformin 500 mg tablet",
        allergy="Penicillin",
        a1c=7.4,
        when=when,
    )
    _record(
        session,
        bob,
        problem="Asthma",
        medication="Albuterol inhaler",
        allergy="Peanuts",
        a1c=5.2,
        when=when,
    )
    _record(
        session,
        carol,
        problem="Eczema",
        medication="Hydrocortisone cream",
        allergy="Latex",
        a1c=5.0,
        when=when,
    )
    create_appointment(
        session, alice, service_type="Diabetes check", start=when + timedelta(days=6)
    )
    alice_user = create_user(session, Role.PATIENT, alice, username="alice")
    bob_user = create_user(session, Role.PATIENT, bob, username="bob")
    proxy = create_user(session, Role.PROXY, username="parent", display_name="Pat Archer")
    grant_proxy(session, proxy, alice)
    grant_proxy(session, proxy, carol)
    staff = {role: create_user(session, role, username=f"staff_{role}") for role in STAFF_ROLES}
    return Records(alice, bob, carol, alice_user, bob_user, proxy, staff)


def _all_words(at) -> str:
    return "\n".join(table_values(at) + texts(at) + [s.value for s in at.subheader])


# --- patient ---------------------------------------------------------------------------------


def test_patient_home_shows_their_visits_new_results_and_medications(open_page, records):
    at = open_page("alice", HOME)
    assert at.title[0].value.startswith("Good")
    shown = _all_words(at)
    assert "Diabetes check" in shown
    assert "Metformin 500 mg tablet" in shown
    assert "Hemoglobin A1c" in shown
    # The new A1c of 7.4 % is above the 5.6 % range, and the page says so in plain words.
    assert any("1 new result is outside the normal range" in w.value for w in at.warning)
    assert "Albuterol" not in shown and "Asthma" not in shown


def test_patient_health_summary_shows_every_section_of_their_record(open_page, records):
    at = open_page("alice", SUMMARY)
    shown = _all_words(at)
    for expected in (
        "Alice Archer",
        "MRN-ALICE",
        "Type 2 diabetes mellitus",
        "Metformin 500 mg tablet",
        "Penicillin",
        "Influenza, seasonal",
    ):
        assert expected in shown
    assert "Asthma" not in shown and "Peanuts" not in shown and "MRN-BOB" not in shown


def test_patient_results_show_latest_values_and_the_trend_of_a_test(open_page, records):
    at = open_page("alice", RESULTS)
    assert at.button_group(key="results_view").options == ["Lab results", "Vitals"]
    assert "Hemoglobin A1c" in table_values(at)
    test_picker = at.selectbox(key=f"{keys.RESULTS_SELECTED_CODE}:laboratory:{records.alice.id}")
    assert test_picker.value == "4548-4"
    # Three A1c values over time in the history table, newest first.
    latest, history = at.dataframe[0].value, at.dataframe[1].value
    assert len(latest) == 1 and len(history) == 3
    # The trend chart of the view shown (only the chosen view is built).
    assert len(at.get("vega_lite_chart")) == 1


def test_patient_with_no_results_sees_an_empty_state(open_page, session, records):
    dave = create_patient(session, given_name="Dave", family_name="Dunn")
    create_user(session, Role.PATIENT, dave, username="dave")
    at = open_page("dave", RESULTS)
    assert [i.value for i in at.info] == ["No lab results yet."]
    at.button_group(key="results_view").set_value("vital-signs")
    assert [i.value for i in run_ok(at).info] == ["No vital signs recorded yet."]
    home = open_page("dave", HOME)
    assert "No upcoming visits." in [i.value for i in home.info]
    assert "No active medications." in [i.value for i in home.info]


# --- proxy -----------------------------------------------------------------------------------


def _switcher_heading(at) -> list[str]:
    return [s.value for s in at.subheader if "record" in s.value.lower()]


def test_proxy_switches_between_the_patients_they_were_granted(open_page, records):
    at = open_page("parent", SUMMARY)
    picker = at.selectbox(key=keys.VIEWING_PATIENT_ID)
    assert picker.options == ["Alice Archer", "Carol Archer"]
    assert _switcher_heading(at) == [":material/person: Record of Alice Archer"]
    assert "Type 2 diabetes mellitus" in _all_words(at)

    picker.set_value(records.carol.id)
    run_ok(at)
    shown = _all_words(at)
    assert "Eczema" in shown and "Latex" in shown
    assert "Type 2 diabetes mellitus" not in shown

    # The choice holds across pages: results now show Carol's tests.
    goto(at, RESULTS)
    assert at.selectbox(key=f"{keys.RESULTS_SELECTED_CODE}:laboratory:{records.carol.id}")
    assert _switcher_heading(at) == [":material/person: Record of Carol Archer"]
    goto(at, HOME)
    assert "Hydrocortisone cream" in _all_words(at)
    assert "Metformin 500 mg tablet" not in _all_words(at)
    # Request pages use the same switcher and act for the same record.
    goto(at, "pages/medications.py")
    assert _switcher_heading(at) == [":material/person: Record of Carol Archer"]
    assert at.selectbox(key=keys.VIEWING_PATIENT_ID).value == records.carol.id
    goto(at, SUMMARY)
    assert at.selectbox(key=keys.VIEWING_PATIENT_ID).value == records.carol.id
    assert "Eczema" in _all_words(at)


def _forge_choice(at, user, patient_id, page):
    """Point the remembered record choice at ``patient_id`` (as a tampered session would)."""
    at.session_state[keys.VIEWING_PATIENT_CHOICE] = (user.id, patient_id)
    return goto(at, page)


def test_proxy_never_sees_a_record_they_were_not_granted(open_page, records):
    at = _forge_choice(open_page("parent"), records.proxy, records.bob.id, SUMMARY)
    shown = _all_words(at)
    # The forged choice is refused plainly, and a record the account may see is shown.
    assert [w.value for w in at.warning] == [REFUSAL]
    assert "Asthma" not in shown and "MRN-BOB" not in shown
    assert at.selectbox(key=keys.VIEWING_PATIENT_ID).value == records.alice.id


# --- another patient's data ------------------------------------------------------------------


@pytest.mark.parametrize("page", [HOME, SUMMARY, RESULTS])
def test_patient_forging_another_patients_id_sees_only_their_own_record(open_page, records, page):
    at = _forge_choice(open_page("bob"), records.bob_user, records.alice.id, page)
    assert [w.value for w in at.warning] == [REFUSAL]
    shown = _all_words(at)
    assert "Metformin" not in shown and "Type 2 diabetes" not in shown
    assert "MRN-ALICE" not in shown and "Diabetes check" not in shown


@pytest.mark.parametrize("page", [HOME, SUMMARY, RESULTS])
def test_page_that_asks_for_another_patients_record_gets_a_plain_refusal(
    open_page, records, monkeypatch, page
):
    """Even if the record picker were wrong, the services refuse and the page shows only that."""
    page_module = f"pages.{Path(page).stem}"
    monkeypatch.setattr(f"{page_module}.active_patient_id", lambda user: records.alice.id)
    at = open_page("bob", page)
    assert [e.value for e in at.error] == [REFUSAL]
    assert not at.dataframe
    assert "Metformin" not in _all_words(at)


def test_patient_forcing_patient_lookup_is_refused(app_env, records):
    """Navigation never offers the page to a patient; run it directly, as a forced visit."""
    at = force_page("alice", LOOKUP)
    assert [e.value for e in at.error] == [STAFF_ONLY]
    assert not at.text_input and not at.dataframe


def test_patient_with_a_staff_chart_in_session_state_still_sees_only_their_own(open_page, records):
    at = open_page("bob", SUMMARY, **{keys.STAFF_OPEN_PATIENT_ID: records.alice.id})
    assert "MRN-ALICE" not in _all_words(at)
    assert "Asthma" in _all_words(at)


# --- staff -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_staff_find_a_patient_and_open_the_read_only_chart(open_page, records, role):
    at = open_page(f"staff_{role}", LOOKUP)
    at.text_input[0].set_value("archer")
    click(at, "Search")
    assert sorted(table_values(at)[::4]) == ["Alice Archer", "Carol Archer"]
    at.selectbox[0].set_value(records.alice.id)
    click(at, "Open chart")
    # The chart opens on the health summary with a banner naming the patient.
    assert at.title[0].value == "Health summary"
    assert "Viewing chart of (read-only)" in texts(at)
    assert any(t.startswith("Alice Archer") and "MRN-ALICE" in t for t in texts(at))
    assert "Type 2 diabetes mellitus" in _all_words(at)
    assert not at.text_area and not at.file_uploader

    goto(at, RESULTS)
    assert "Hemoglobin A1c" in table_values(at)
    assert "Viewing chart of (read-only)" in texts(at)


@pytest.mark.parametrize("search", [{"MRN": "MRN-BOB"}, {"Name": "baker bob"}])
def test_staff_search_by_mrn_or_name_finds_one_patient(open_page, records, search):
    at = open_page("staff_nurse", LOOKUP)
    [field] = search
    next(t for t in at.text_input if t.label == field).set_value(search[field])
    click(at, "Search")
    assert table_values(at)[0] == "Bob Baker"
    assert len(at.dataframe[0].value) == 1


def test_staff_search_with_nothing_entered_asks_for_a_term(open_page, records):
    at = open_page("staff_front_desk", LOOKUP)
    click(at, "Search")
    assert [w.value for w in at.warning] == ["Enter a name, a birth date or an MRN to search."]
    at.text_input[0].set_value("nobody-by-this-name")
    click(at, "Search")
    assert at.info[0].value.startswith("No patients match.")


def test_staff_without_an_open_chart_are_sent_to_lookup(open_page, records):
    at = open_page("staff_clinician", SUMMARY)
    assert at.info[0].value.startswith("No chart is open.")
    assert not at.dataframe


def test_staff_home_is_patient_lookup(open_page, records):
    at = open_page("staff_admin")
    assert at.title[0].value == "Patient lookup"


def test_a_choice_left_by_another_account_in_the_browser_is_ignored(open_page, records):
    """Signing out and in as someone else in the same tab neither leaks nor alarms."""
    at = open_page(
        "bob", HOME, **{keys.VIEWING_PATIENT_CHOICE: (records.proxy.id, records.alice.id)}
    )
    assert not at.warning
    assert "Albuterol inhaler" in _all_words(at)
    assert "Metformin" not in _all_words(at)


def test_health_summary_shows_procedures_devices_imaging_social_history_and_care_plan(
    open_page, session, records
):
    alice, bob = records.alice, records.bob
    session.add_all(
        [
            Procedure(
                patient_id=alice.id,
                fhir_id="proc-lung",
                display="Transplant of lung (procedure)",
                performed_start=datetime(2019, 5, 2, tzinfo=UTC),
            ),
            Device(patient_id=alice.id, fhir_id="dev-1", status="active", display="Pacemaker"),
            ImagingStudy(patient_id=alice.id, fhir_id="img-1", modality="Digital Radiography"),
            Observation(
                patient_id=alice.id,
                fhir_id="obs-smoke",
                category="social-history",
                code="72166-2",
                display="Tobacco smoking status",
                value_string="Never smoked tobacco (finding)",
            ),
            CareGoal(
                patient_id=alice.id,
                fhir_id="goal-1",
                description="Walk 30 minutes a day",
                expressed_by="Dr. Ana Ruiz",
            ),
            CarePlan(
                patient_id=alice.id,
                fhir_id="plan-1",
                title="Lung transplant aftercare",
                activities_json='[{"what": "Pulmonary rehabilitation", "status": "in-progress"}]',
            ),
            Procedure(patient_id=bob.id, fhir_id="proc-bob", display="Tonsillectomy"),
        ]
    )
    session.commit()

    at = open_page("alice", SUMMARY)

    assert not at.exception
    shown = _all_words(at)
    for expected in (
        "Transplant of lung",  # surgical history, named like an operation
        "Pacemaker",
        "Digital Radiography",
        "Tobacco smoking status",
        "Never smoked tobacco",
        "Walk 30 minutes a day",
        "Dr. Ana Ruiz",
        "Pulmonary rehabilitation",
    ):
        assert expected in shown, expected
    assert "(procedure)" not in shown
    assert "Tonsillectomy" not in shown
    assert "Lung transplant aftercare" in "\n".join(m.value for m in at.markdown)
