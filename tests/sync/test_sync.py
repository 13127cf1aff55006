"""Full and incremental sync against the real FHIR server."""

import copy
import json

from sqlmodel import select

from db.models import (
    Condition,
    MedicationRequest,
    Observation,
    Patient,
    QuarantinedResource,
    ServiceRequest,
    SyncCheckpoint,
    SyncRun,
)
from ehr_sync.sync import SYNC_TYPES, run_sync
from tests.sync import fhir_data
from tests.sync.helpers import duplicate_rows, stored_counts

PATIENTS = 12


def test_full_sync_equals_the_source(fhir_server, fhir_client, session):
    fhir_server.load(fhir_data.clinic(PATIENTS))

    result = run_sync(fhir_client, session=session)

    assert result.status == "succeeded", result.errors
    assert stored_counts(session) == fhir_data.expected_counts(PATIENTS)
    assert duplicate_rows(session) == 0
    patient = session.exec(select(Patient).where(Patient.fhir_id == "pat-3")).one()
    assert (patient.given_name, patient.family_name, patient.mrn) == (
        "Given3",
        "Family3",
        "MRN00003",
    )
    assert patient.primary_practitioner_id is not None
    glucose = session.exec(select(Observation).where(Observation.fhir_id == "obs-3-1")).one()
    assert (glucose.code, glucose.value, glucose.unit) == (
        "2345-7",
        94.0,
        "mg/dL",
    )  # 90 + patient 3 + reading 1
    linked = session.exec(select(Observation).where(Observation.fhir_id == "obs-3-0")).one()
    assert linked.report_fhir_id == "rep-3"
    med = session.exec(select(MedicationRequest).where(MedicationRequest.fhir_id == "med-3")).one()
    assert med.display == "Metformin 500 MG" and med.prescriber_id is not None
    referral = session.exec(select(ServiceRequest).where(ServiceRequest.fhir_id == "ref-3")).one()
    assert (referral.specialty, referral.reason) == ("Endocrinology", "Diabetes review")
    assert referral.patient_id == patient.id and referral.requester_id is not None


def test_run_is_recorded_with_counts_per_type(fhir_server, fhir_client, session):
    fhir_server.load(fhir_data.clinic(3))
    result = run_sync(fhir_client, session=session, trigger="cli")
    run = session.get(SyncRun, result.run_id)
    assert run.status == "succeeded" and run.trigger == "cli"
    assert run.finished_at >= run.started_at
    assert run.fetched == run.created == sum(fhir_data.expected_counts(3).values())
    assert json.loads(run.counts_json)["Observation"]["created"] == 9


def test_second_sync_skips_unchanged_versions_without_importing(fhir_server, fhir_client, session):
    fhir_server.load(fhir_data.clinic(3))
    run_sync(fhir_client, session=session)

    again = run_sync(fhir_client, session=session)

    assert again.total("created") == again.total("updated") == again.total("quarantined") == 0
    assert again.total("skipped") == again.total("fetched")  # only the overlap came back


def test_incremental_sync_picks_up_exactly_the_changes(fhir_server, fhir_client, session):
    fhir_server.load(fhir_data.clinic(PATIENTS))
    run_sync(fhir_client, session=session)

    renamed = fhir_data.patient(1)
    renamed["name"] = [{"given": ["Renamed"], "family": "Family1"}]
    fhir_server.put(renamed)
    corrected = fhir_data.glucose(2, 0)
    corrected["valueQuantity"]["value"] = 250
    fhir_server.put(corrected)
    withdrawn = next(r for r in fhir_data.clinical(4) if r["resourceType"] == "MedicationRequest")
    fhir_server.put({**withdrawn, "status": "entered-in-error"})
    wrong_problem = next(r for r in fhir_data.clinical(5) if r["resourceType"] == "Condition")
    fhir_server.put(
        {
            **wrong_problem,
            "clinicalStatus": None,
            "verificationStatus": {"coding": [{"code": "entered-in-error"}]},
        }
    )
    fhir_server.delete("Condition", "cond-3")
    fhir_server.delete("Observation", "obs-6-2")
    fhir_server.put(fhir_data.patient(PATIENTS))  # a new patient with a new record
    for resource in [*fhir_data.clinical(PATIENTS), *fhir_data.whole_record(PATIENTS)]:
        fhir_server.put(resource)

    result = run_sync(fhir_client, session=session)

    assert result.status == "succeeded", result.errors
    assert result.stats["Patient"].updated == 1 and result.stats["Patient"].created == 1
    assert result.stats["Observation"].updated == 1
    assert result.stats["Observation"].created == 3
    assert result.stats["Condition"].deleted == 1 and result.stats["Observation"].deleted == 1
    assert session.exec(select(Patient).where(Patient.fhir_id == "pat-1")).one().given_name == (
        "Renamed"
    )
    assert (
        session.exec(select(Observation).where(Observation.fhir_id == "obs-2-0")).one().value == 250
    )
    assert session.exec(select(Condition).where(Condition.fhir_id == "cond-3")).first() is None
    assert session.exec(select(Observation).where(Observation.fhir_id == "obs-6-2")).first() is None
    med = session.exec(select(MedicationRequest).where(MedicationRequest.fhir_id == "med-4")).one()
    assert med.status == "entered-in-error"
    problem = session.exec(select(Condition).where(Condition.fhir_id == "cond-5")).one()
    assert problem.clinical_status == "entered-in-error"
    expected = fhir_data.expected_counts(PATIENTS + 1)
    expected["Condition"] -= 1
    expected["Observation"] -= 1
    assert stored_counts(session) == expected
    assert duplicate_rows(session) == 0


def test_checkpoint_moves_only_after_a_page_commits_so_a_crash_resumes(
    fhir_server, fhir_client, session
):
    fhir_server.load(fhir_data.clinic(PATIENTS))
    pages_served = 0
    real_get = fhir_client.get_json

    def crash_on_second_observation_page(url, params=None):
        nonlocal pages_served
        if "Observation" in url:
            pages_served += 1
            if pages_served == 2:
                raise SystemExit("process killed")
        return real_get(url, params)

    fhir_client.get_json = crash_on_second_observation_page
    try:
        run_sync(fhir_client, session=session)
    except SystemExit:
        session.rollback()
    partial = stored_counts(session)["Observation"]
    assert 0 < partial < 3 * PATIENTS
    checkpoint = session.exec(
        select(SyncCheckpoint).where(SyncCheckpoint.resource_type == "Observation")
    ).one()
    assert checkpoint.last_updated is not None

    fhir_client.get_json = real_get
    result = run_sync(fhir_client, session=session)

    assert result.stats["Observation"].created == 3 * PATIENTS - partial
    assert stored_counts(session) == fhir_data.expected_counts(PATIENTS)
    assert duplicate_rows(session) == 0


def test_malformed_resource_is_quarantined_and_the_rest_imported(fhir_server, fhir_client, session):
    fhir_server.load(fhir_data.clinic(3))
    bad = copy.deepcopy(fhir_data.glucose(1, 0))
    bad["id"] = "obs-bad"
    bad["subject"] = {"reference": "Group/everyone"}  # valid FHIR, but names no patient
    fhir_server.put(bad)

    result = run_sync(fhir_client, session=session)
    again = run_sync(fhir_client, session=session)

    assert result.stats["Observation"].quarantined == 1
    assert stored_counts(session) == fhir_data.expected_counts(3)
    row = session.exec(select(QuarantinedResource)).one()  # not quarantined a second time
    assert row.fhir_id == "obs-bad" and "Patient" in row.reason
    assert again.stats["Observation"].quarantined == 0


def test_record_naming_a_patient_not_yet_synced_fetches_that_patient(
    fhir_server, fhir_client, session
):
    fhir_server.load(fhir_data.clinic(2))
    run_sync(fhir_client, session=session)
    fhir_server.put(fhir_data.patient(7))
    fhir_server.put(next(r for r in fhir_data.clinical(7) if r["resourceType"] == "Condition"))

    # Only Conditions: as if the patient arrived after this run's Patient pass.
    result = run_sync(fhir_client, session=session, types=["Condition"])

    assert result.stats["Condition"].created == 1 and result.stats["Condition"].quarantined == 0
    assert session.exec(select(Patient).where(Patient.fhir_id == "pat-7")).one()


def test_sync_types_follow_dependency_order():
    # Whoever a record points at (people, places) comes before it.
    assert SYNC_TYPES[:4] == ("Practitioner", "Organization", "Location", "Patient")
    assert SYNC_TYPES.index("Location") < SYNC_TYPES.index("Encounter")
    assert SYNC_TYPES.index("Location") < SYNC_TYPES.index("Procedure")
