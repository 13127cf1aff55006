"""Each mapper on realistic R4 JSON. Pure: no database; references stay as Ref placeholders."""

import base64
from datetime import UTC, date, datetime

import pytest

from ehr_sync.mappers import MappingError, Ref, map_resource, report_result_references
from ehr_sync.parsing import parse_resource
from tests.ehr_sync.fhir_json import glucose, load

PATIENT_REF = Ref("Patient", "Patient/pat-lee", required=True)
PRACTITIONER_REF = Ref("Practitioner", "Practitioner/prac-ruiz", required=False)


def rows_of(resource: dict) -> list[dict]:
    return map_resource(parse_resource(resource))


def test_patient_maps_mrn_names_contacts_address_language_and_gp():
    [row] = rows_of(load("patient"))
    assert row["fhir_id"] == "pat-lee"
    assert row["mrn"] == "MRN-004211"  # the "MR" identifier, not the SSN listed first
    assert (row["given_name"], row["family_name"]) == ("Min Jun", "Lee")  # official, not nickname
    assert (row["given_name_lower"], row["family_name_lower"]) == ("min jun", "lee")
    assert row["birth_date"] == date(1974, 12, 25)
    assert row["sex"] == "male"
    assert row["phone"] == "555-0142"  # rank 1 wins
    assert row["email"] == "min.lee@example.org"  # the "old" one is skipped
    assert row["address"] == "12 Elm St, Apt 4, Springfield, MA 01101, US"
    assert row["language"] == "ko"  # the preferred one
    assert row["deceased"] is False
    assert row["primary_practitioner_id"] == PRACTITIONER_REF


def test_patient_meta_fills_version_and_last_updated_in_utc():
    [row] = rows_of(load("patient"))
    assert row["version_id"] == "7"
    assert row["last_updated"] == datetime(2026, 5, 4, 12, 30, tzinfo=UTC)


def test_patient_with_deceased_date_time_is_deceased_and_partial_birth_date_is_first_day():
    [row] = rows_of(load("patient", deceasedBoolean=None, deceasedDateTime="2026-01-02"))
    assert row["deceased"] is True
    [row] = rows_of(load("patient", birthDate="1974-12"))
    assert row["birth_date"] == date(1974, 12, 1)


def test_practitioner_maps_display_name_qualification_and_phone():
    [row] = rows_of(load("practitioner"))
    assert row["name"] == "Dr. Ana María Ruiz, MD"
    assert row["qualification"] == "Doctor of Medicine"
    assert row["phone"] == "555-0100"


def test_condition_prefers_snomed_and_keeps_onset_day_as_recorded():
    [row] = rows_of(load("condition"))
    assert row["patient_id"] == PATIENT_REF
    assert (row["code_system"], row["code"], row["display"]) == (
        "http://snomed.info/sct",
        "59621000",
        "Essential hypertension",
    )
    assert row["clinical_status"] == "active"
    # 23:30 at -05:00 is already 1 July in UTC; the patient's onset day is still 30 June.
    assert row["onset_date"] == date(2019, 6, 30)


def test_medication_request_with_medication_codeable_concept_keeps_rxnorm():
    [row] = rows_of(load("medication_request"))
    assert (row["code_system"], row["code"]) == (
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        "314076",
    )
    assert row["display"] == "lisinopril 10 MG Oral Tablet"
    assert row["status"] == "active"
    assert row["dosage_text"] == "Take 1 tablet by mouth once daily"
    assert row["authored_on"] == datetime(2026, 2, 10, tzinfo=UTC)  # date-only: midnight UTC
    assert row["prescriber_id"] == PRACTITIONER_REF


def test_allergy_maps_code_status_criticality_and_reactions():
    [row] = rows_of(load("allergy_intolerance"))
    assert row["patient_id"] == PATIENT_REF
    assert (row["code"], row["display"]) == ("91936005", "Allergy to penicillin")
    assert (row["clinical_status"], row["criticality"]) == ("active", "high")
    assert row["reaction"] == "Hives, Anaphylaxis"
    assert row["recorded_date"] == datetime(2018, 3, 14, 9, 15, tzinfo=UTC)


def test_immunization_keeps_cvx_code_and_occurrence():
    [row] = rows_of(load("immunization"))
    assert (row["code_system"], row["code"]) == ("http://hl7.org/fhir/sid/cvx", "150")
    assert row["status"] == "completed"
    assert row["occurrence"] == datetime(2025, 10, 1, 14, 20, tzinfo=UTC)


def test_encounter_with_class_maps_type_reasons_period_and_practitioner():
    [row] = rows_of(load("encounter"))
    assert row["class_code"] == "AMB"
    assert (row["type_code"], row["type_display"]) == ("185349003", "Encounter for check up")
    assert row["reason"] == "Hypertension; Medication review"
    assert row["start"] == datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    assert row["end"] == datetime(2026, 3, 1, 14, 40, tzinfo=UTC)
    assert row["practitioner_id"] == PRACTITIONER_REF


def test_lab_observation_maps_value_unit_range_flag_and_time():
    [row] = rows_of(load("observation_glucose"))
    assert row["category"] == "laboratory"
    assert (row["code_system"], row["code"]) == ("http://loinc.org", "2345-7")
    assert (row["value"], row["unit"], row["value_string"]) == (128.0, "mg/dL", None)
    assert (row["ref_low"], row["ref_high"]) == (70.0, 99.0)
    assert row["interpretation"] == "H"
    assert row["effective_at"] == datetime(2026, 3, 1, 14, 15, tzinfo=UTC)


def test_blood_pressure_panel_becomes_one_row_per_component_with_the_same_fhir_id():
    systolic, diastolic = rows_of(load("observation_blood_pressure"))
    assert systolic["fhir_id"] == diastolic["fhir_id"] == "obs-bp-1"
    assert (systolic["code"], systolic["value"], systolic["interpretation"]) == ("8480-6", 142, "H")
    assert (diastolic["code"], diastolic["value"], diastolic["interpretation"]) == (
        "8462-4",
        88,
        "N",
    )
    assert systolic["category"] == diastolic["category"] == "vital-signs"
    assert systolic["ref_high"] == 130.0
    assert systolic["effective_at"] == datetime(2026, 3, 1, 14, 5, tzinfo=UTC)


def test_observation_with_coded_or_text_value_fills_value_string():
    coded = {"coding": [{"system": "http://snomed.info/sct", "code": "10828004", "display": "Pos"}]}
    [row] = rows_of(glucose("o-coded", valueQuantity=None, valueCodeableConcept=coded))
    assert (row["value"], row["value_string"]) == (None, "Pos")
    [row] = rows_of(glucose("o-text", valueQuantity=None, valueString="Trace"))
    assert row["value_string"] == "Trace"


def test_observation_value_with_comparator_keeps_it_in_words():
    less_than = {"value": 5, "comparator": "<", "unit": "mg/L"}
    [row] = rows_of(glucose("o-crp", valueQuantity=less_than))
    assert (row["value"], row["value_string"]) == (5.0, "<5")


def test_diagnostic_report_maps_code_times_conclusion_and_results():
    report = parse_resource(load("diagnostic_report"))
    [row] = map_resource(report)
    assert (row["code"], row["display"]) == ("51990-0", "Basic metabolic panel - Blood")
    assert row["effective_at"] == datetime(2026, 3, 1, 14, 15, tzinfo=UTC)
    assert row["issued_at"] == datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    assert row["conclusion"].startswith("Fasting glucose above range")
    assert report_result_references(report) == ["Observation/obs-glucose-1"]


def test_appointment_takes_patient_and_practitioner_from_participants():
    [row] = rows_of(load("appointment"))
    assert row["patient_id"] == PATIENT_REF
    assert row["practitioner_id"] == PRACTITIONER_REF
    assert row["service_type"] == "General Practice"
    assert row["start"] == datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    assert row["end"] == datetime(2026, 12, 3, 19, 20, tzinfo=UTC)


def test_appointment_without_a_patient_participant_cannot_be_mapped():
    appointment = load("appointment")
    appointment["participant"] = appointment["participant"][1:]
    with pytest.raises(MappingError, match="no patient reference"):
        rows_of(appointment)


def test_document_reference_decodes_inline_plain_text():
    [row] = rows_of(load("document_reference"))
    assert (row["type_code"], row["type_display"]) == ("11506-3", "Progress note")
    assert row["title"] == "Progress note"
    assert row["content_type"] == "text/plain; charset=utf-8"
    assert row["text"].startswith("Visit summary\nBlood pressure above goal")
    assert row["date"] == datetime(2026, 3, 1, 20, 2, 10, 123000, tzinfo=UTC)


def test_document_reference_leaves_binary_content_undecoded():
    pdf = {"contentType": "application/pdf", "data": base64.b64encode(b"%PDF-1.7").decode()}
    [row] = rows_of(load("document_reference", content=[{"attachment": pdf}]))
    assert (row["content_type"], row["text"]) == ("application/pdf", None)


def test_subject_that_is_not_a_patient_cannot_be_mapped():
    with pytest.raises(MappingError, match="not a Patient"):
        rows_of(glucose("o-group", subject={"reference": "Group/ward-3"}))


def test_over_long_code_is_refused_but_over_long_display_is_shortened():
    long_code = {"coding": [{"system": "http://loinc.org", "code": "9" * 65}]}
    with pytest.raises(MappingError, match="code is longer than 64"):
        rows_of(glucose("o-long-code", code=long_code))
    long_display = {
        "coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "x" * 600}]
    }
    [row] = rows_of(glucose("o-long-display", code=long_display))
    assert len(row["display"]) == 500
