"""Realistic FHIR R4 JSON for the ehr_sync tests: fixture files plus small builders."""

import copy
import json
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

# Every fixture file, in an order that puts references before their targets on purpose.
ALL_FIXTURES = (
    "observation_glucose",
    "observation_blood_pressure",
    "diagnostic_report",
    "condition",
    "medication_request",
    "allergy_intolerance",
    "immunization",
    "encounter",
    "appointment",
    "document_reference",
    "patient",
    "practitioner",
)


@cache
def _read(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def load(name: str, **changes) -> dict:
    """A fresh copy of fixtures/<name>.json with top-level elements replaced by ``changes``."""
    return {**json.loads(_read(name)), **changes}


def bundle(*resources: dict, kind: str = "collection") -> dict:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": copy.deepcopy(r)} for r in resources],
    }


def patient(fhir_id: str, **changes) -> dict:
    return load("patient", id=fhir_id, generalPractitioner=[], **changes)


def glucose(fhir_id: str, patient_id: str = "pat-lee", **changes) -> dict:
    changes.setdefault("subject", {"reference": f"Patient/{patient_id}"})
    return load("observation_glucose", id=fhir_id, **changes)


def without(resource: dict, *elements: str) -> dict:
    return {k: v for k, v in resource.items() if k not in elements}
