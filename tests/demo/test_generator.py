"""The demo generator: deterministic, valid FHIR R4, and a record with stories worth charting."""

import base64
import json
import re
from datetime import datetime, timedelta

import pytest
from fhir.resources.R4B import get_fhir_model_class

from portal.demo.generator import (
    SHOWCASE_CHILDREN,
    SHOWCASE_PATIENT,
    clinic_bundles,
    patient_fhir_id,
    patient_resources,
    practitioner_resources,
)
from tests.conftest import NOW

SEED = 20261124
# An ISO dateTime with a time part; FHIR requires an offset on these.
DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<offset>Z|[+-]\d{2}:\d{2})?"
)


@pytest.fixture(scope="module")
def clinic() -> dict[int, list[dict]]:
    """Twelve patients' resources, generated once for the module (on the fixed test clock)."""
    return {n: patient_resources(n, seed=SEED, now=NOW) for n in range(1, 13)}


def _of_type(resources: list[dict], resource_type: str) -> list[dict]:
    return [r for r in resources if r["resourceType"] == resource_type]


def _observations(resources: list[dict], loinc: str) -> list[dict]:
    return [
        r for r in _of_type(resources, "Observation") if r["code"]["coding"][0]["code"] == loinc
    ]


def _flag(observation: dict) -> str | None:
    flags = observation.get("interpretation") or [{"coding": [{}]}]
    return flags[0]["coding"][0].get("code")


def test_same_seed_gives_identical_resources(now):
    first = [patient_resources(n, seed=SEED, now=now) for n in (1, 4, 9)]
    again = [patient_resources(n, seed=SEED, now=now) for n in (1, 4, 9)]
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_different_seed_gives_different_resources(now):
    assert patient_resources(4, seed=SEED, now=now) != patient_resources(4, seed=SEED + 1, now=now)


def test_a_patient_is_the_same_whatever_the_clinic_size(now):
    small = list(clinic_bundles(5, seed=SEED, now=now))
    large = list(clinic_bundles(8, seed=SEED, now=now, patients_per_bundle=3))
    in_small = [e["resource"] for b in small for e in b["entry"]]
    in_large = [e["resource"] for b in large for e in b["entry"]]
    fourth = [r for r in in_small if patient_fhir_id(4) in json.dumps(r)]
    assert fourth and all(r in in_large for r in fourth)


def test_bundles_hold_practitioners_then_patients_in_chunks(now):
    bundles = list(clinic_bundles(7, seed=SEED, now=now, patients_per_bundle=3))
    assert [b["type"] for b in bundles] == ["collection"] * 4
    assert {e["resource"]["resourceType"] for e in bundles[0]["entry"]} == {"Practitioner"}
    patients_per_bundle = [
        [e["resource"]["id"] for e in b["entry"] if e["resource"]["resourceType"] == "Patient"]
        for b in bundles[1:]
    ]
    assert [len(p) for p in patients_per_bundle] == [3, 3, 1]


def test_every_resource_is_valid_fhir_r4(clinic, now):
    resources = practitioner_resources() + [r for rs in clinic.values() for r in rs]
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    bundle = next(clinic_bundles(1, seed=SEED, now=now))
    get_fhir_model_class("Bundle").model_validate(bundle)


def test_every_time_carries_a_utc_offset(clinic):
    text = json.dumps(clinic)
    times = [m for m in DATETIME.finditer(text)]
    assert times
    assert all(m.group("offset") for m in times), [m.group(0) for m in times if not m["offset"]]


def test_ids_are_stable_unique_and_named_after_the_patient(clinic):
    ids = [(r["resourceType"], r["id"]) for rs in clinic.values() for r in rs]
    assert len(ids) == len(set(ids))
    first = clinic[1]
    assert first[0]["id"] == "demo-pat-0001"
    assert _of_type(first, "Observation")[0]["id"] == "demo-obs-0001-0001"
    assert all(re.fullmatch(r"demo-[a-z]+-0001(-\d{4})?", r["id"]) for r in first)


def test_references_point_at_resources_that_exist(clinic):
    known = {f"{r['resourceType']}/{r['id']}" for rs in clinic.values() for r in rs}
    known |= {f"Practitioner/{p['id']}" for p in practitioner_resources()}
    references = re.findall(r'"reference": "([^"]+)"', json.dumps(clinic))
    assert references
    assert set(references) <= known


def test_patient_has_mrn_contact_details_and_a_gp(clinic):
    patient = clinic[5][0]
    mrn = patient["identifier"][0]
    assert mrn["type"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
        "code": "MR",
        "display": "Medical record number",
    }
    assert {t["system"] for t in patient["telecom"]} == {"phone", "email"}
    assert patient["address"][0]["city"]
    assert patient["generalPractitioner"][0]["reference"].startswith("Practitioner/demo-prac-")


def test_history_spans_years_and_ends_at_now(clinic, now):
    for resources in clinic.values():
        starts = [
            datetime.fromisoformat(e["period"]["start"]) for e in _of_type(resources, "Encounter")
        ]
        assert max(starts) <= now
        assert now - min(starts) >= timedelta(days=365 * 2 - 40)
        assert now - min(starts) <= timedelta(days=365 * 5 + 10)
        for appointment in _of_type(resources, "Appointment"):
            start = datetime.fromisoformat(appointment["start"])
            assert (start > now) == (appointment["status"] == "booked")


def test_showcase_patient_a1c_falls_after_metformin(clinic):
    a1c = _observations(clinic[SHOWCASE_PATIENT], "4548-4")
    values = [o["valueQuantity"]["value"] for o in a1c]
    times = [datetime.fromisoformat(o["effectiveDateTime"]) for o in a1c]
    assert len(values) >= 6
    assert times[-1] - times[0] >= timedelta(days=2 * 365)
    assert values[0] == pytest.approx(8.9, abs=0.4)
    assert values[-1] < values[0] - 1
    assert len(set(values)) > 3
    assert all(_flag(o) == "H" for o in a1c)  # diabetic A1c stays above 5.6


def test_showcase_patient_blood_pressure_improves(clinic):
    panels = _observations(clinic[SHOWCASE_PATIENT], "85354-9")
    systolic = [p["component"][0]["valueQuantity"]["value"] for p in panels]
    assert [c["code"]["coding"][0]["code"] for c in panels[0]["component"]] == ["8480-6", "8462-4"]
    assert sum(systolic[:2]) / 2 > sum(systolic[-4:]) / 4 + 8


def test_showcase_patient_has_diabetes_hypertension_and_an_upcoming_visit(clinic, now):
    resources = clinic[SHOWCASE_PATIENT]
    problems = {c["code"]["coding"][0]["code"] for c in _of_type(resources, "Condition")}
    assert {"44054006", "59621000"} <= problems
    drugs = {
        m["medicationCodeableConcept"]["coding"][0]["code"]
        for m in _of_type(resources, "MedicationRequest")
    }
    assert {"860975", "314076"} <= drugs  # metformin, lisinopril
    booked = [a for a in _of_type(resources, "Appointment") if a["status"] == "booked"]
    assert booked and datetime.fromisoformat(booked[0]["start"]) - now < timedelta(days=21)


def test_results_include_abnormal_flags_in_both_directions(clinic):
    flags = [
        _flag(o)
        for rs in clinic.values()
        for o in _of_type(rs, "Observation")
        if "interpretation" in o
    ]
    assert {"H", "L", "N"} <= set(flags)
    assert flags.count("N") > flags.count("H") > 0


def test_lab_results_carry_loinc_ucum_and_reference_ranges(clinic):
    glucose = _observations(clinic[4], "2345-7")[0]
    assert glucose["category"][0]["coding"][0]["code"] == "laboratory"
    assert glucose["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert glucose["referenceRange"][0]["high"]["value"] == 99


def test_reports_group_the_observations_of_one_panel(clinic):
    resources = clinic[SHOWCASE_PATIENT]
    observations = {o["id"]: o for o in _of_type(resources, "Observation")}
    lipids = next(
        r
        for r in _of_type(resources, "DiagnosticReport")
        if r["code"]["coding"][0]["code"] == "57698-3"
    )
    codes = {
        observations[r["reference"].split("/")[1]]["code"]["coding"][0]["code"]
        for r in lipids["result"]
    }
    assert codes == {"2093-3", "18262-6", "2085-9", "2571-8"}


def test_average_patient_has_about_two_hundred_observations(clinic):
    counts = [len(_of_type(rs, "Observation")) for rs in clinic.values()]
    assert 120 <= sum(counts) / len(counts) <= 320


def test_caregivers_children_are_siblings_under_eighteen(clinic, now):
    children = [clinic[n][0] for n in SHOWCASE_CHILDREN]
    assert len({c["name"][0]["family"] for c in children}) == 1
    assert len({json.dumps(c["address"]) for c in children}) == 1
    for child in children:
        born = datetime.fromisoformat(child["birthDate"]).date()
        assert (now.date() - born).days < 18 * 365


def test_a_larger_clinic_has_children_of_its_own(now):
    patients = [patient_resources(n, seed=SEED, now=now)[0] for n in range(4, 80)]
    young = [p for p in patients if p["birthDate"] > f"{now.year - 18}-{now:%m-%d}"]
    old = [p for p in patients if p["birthDate"] < f"{now.year - 65}-{now:%m-%d}"]
    assert young and old


def test_some_patients_have_no_allergies_and_some_do(clinic):
    with_allergies = [n for n, rs in clinic.items() if _of_type(rs, "AllergyIntolerance")]
    assert 0 < len(with_allergies) < len(clinic)


def test_visit_summaries_are_inline_plain_text(clinic):
    document = _of_type(clinic[SHOWCASE_PATIENT], "DocumentReference")[-1]
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"].startswith("text/plain")
    text = base64.b64decode(attachment["data"]).decode()
    assert "Hemoglobin A1c" in text and "Metformin" in text


def test_showcase_patient_has_the_whole_record_and_the_others_are_unchanged(clinic):
    kinds = {r["resourceType"] for r in clinic[SHOWCASE_PATIENT]}
    assert {"Procedure", "CarePlan", "Goal", "Device"} <= kinds
    social = [
        r
        for r in _of_type(clinic[SHOWCASE_PATIENT], "Observation")
        if r["category"][0]["coding"][0]["code"] == "social-history"
    ]
    assert [r["code"]["coding"][0]["code"] for r in social] == ["72166-2"]
    others = {r["resourceType"] for n, rs in clinic.items() if n != SHOWCASE_PATIENT for r in rs}
    assert not others & {"Procedure", "CarePlan", "Goal", "Device"}
