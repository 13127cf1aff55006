"""Small builders for FHIR R4 JSON (plain dicts), shared by the demo generator's modules."""

from datetime import datetime
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

INTERPRETATION_DISPLAY = {"H": "High", "L": "Low", "N": "Normal"}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        result["text"] = text
    return result


def ref(resource_type: str, fhir_id: str, display: str | None = None) -> dict[str, str]:
    result = {"reference": f"{resource_type}/{fhir_id}"}
    if display:
        result["display"] = display
    return result


def instant(moment: datetime) -> str:
    """An aware datetime as FHIR dateTime/instant text, keeping its UTC offset."""
    if moment.tzinfo is None:
        raise ValueError("FHIR times in the demo clinic always carry an offset")
    return moment.isoformat(timespec="seconds")


def quantity(value: float, unit: str, ucum_code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": ucum_code}


def interpretation(value: float, low: float | None, high: float | None) -> str:
    """H / L / N against a reference range (either bound may be missing)."""
    if high is not None and value > high:
        return "H"
    if low is not None and value < low:
        return "L"
    return "N"


def interpretation_concept(flag: str) -> list[dict[str, Any]]:
    return [concept(INTERPRETATION, flag, INTERPRETATION_DISPLAY[flag])]


def reference_range(
    low: float | None, high: float | None, unit: str, ucum_code: str
) -> list[dict[str, Any]]:
    bounds: dict[str, Any] = {}
    if low is not None:
        bounds["low"] = quantity(low, unit, ucum_code)
    if high is not None:
        bounds["high"] = quantity(high, unit, ucum_code)
    return [bounds] if bounds else []
