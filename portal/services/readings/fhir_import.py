"""FHIR Observation bundles from home devices and other apps, validated with fhir.resources.R4B.

Each entry is validated on its own, so one broken resource is refused with its reason instead of
sinking the whole file. A blood pressure is a panel with systolic and diastolic components.
"""

import json
from collections.abc import Iterator
from typing import Any

from ehr_sync.fhir_values import as_utc
from ehr_sync.parsing import InvalidResource, parse_resource
from portal.services.readings import codes, units
from portal.services.readings.entry import ReadingInput, Refusal

REFUSED_STATUSES = {"entered-in-error", "cancelled", "registered"}
MAX_BYTES = 50 * 1024 * 1024


def _loinc_codes(concept: Any) -> list[str]:
    return [
        c.code
        for c in (concept.coding or [] if concept else [])
        if c.code and (c.system or codes.LOINC) == codes.LOINC
    ]


def _quantity(quantity: Any) -> tuple[float, str] | None:
    if quantity is None or quantity.value is None:
        return None
    return float(quantity.value), (quantity.unit or quantity.code or "")


def _component_value(observation: Any, code: str) -> tuple[float, str] | None:
    for component in observation.component or []:
        if code in _loinc_codes(component.code):
            return _quantity(component.valueQuantity)
    return None


def observation_reading(observation: Any, where: str) -> ReadingInput | Refusal:
    """One validated R4B Observation as a reading, or the reason it is refused."""
    if observation.status in REFUSED_STATUSES:
        return Refusal(where, f"The observation's status is '{observation.status}'.")
    taken_at = as_utc(
        observation.effectiveDateTime
        or observation.effectiveInstant
        or (observation.effectivePeriod.start if observation.effectivePeriod else None)
    )
    if taken_at is None:
        return Refusal(where, "The observation has no date.")
    loinc = _loinc_codes(observation.code)
    if any(c in codes.BP_PANEL_CODES for c in loinc):
        systolic = _component_value(observation, codes.SYSTOLIC)
        diastolic = _component_value(observation, codes.DIASTOLIC)
        if systolic is None or diastolic is None:
            return Refusal(where, "The blood pressure lacks a systolic or diastolic number.")
        return ReadingInput(
            measure=units.BLOOD_PRESSURE,
            value=systolic[0],
            value2=diastolic[0],
            unit=systolic[1],
            taken_at=taken_at,
            where=where,
        )
    if codes.SYSTOLIC in loinc or codes.DIASTOLIC in loinc:
        return Refusal(where, "A blood pressure needs both numbers in one observation.")
    measure = next((codes.LOINC_TO_MEASURE[c] for c in loinc if c in codes.LOINC_TO_MEASURE), None)
    if measure is None:
        return Refusal(where, "The portal does not track this kind of measurement.")
    quantity = _quantity(observation.valueQuantity)
    if quantity is None:
        return Refusal(where, "The observation has no numeric value.")
    return ReadingInput(
        measure=measure, value=quantity[0], unit=quantity[1], taken_at=taken_at, where=where
    )


def parse_fhir(data: bytes) -> Iterator[ReadingInput | Refusal]:
    """Readings from a FHIR Bundle (or a single Observation) in JSON."""
    if len(data) > MAX_BYTES:
        yield Refusal("file", "The file is larger than 50 MB.")
        return
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        yield Refusal("file", "The file is not JSON.")
        return
    if not isinstance(document, dict):
        yield Refusal("file", "The file is not a FHIR resource.")
        return
    if document.get("resourceType") == "Bundle":
        entries = document.get("entry") or []
        resources = [
            (f"entry {n}", e.get("resource") if isinstance(e, dict) else None)
            for n, e in enumerate(entries, start=1)
        ]
    elif document.get("resourceType") == "Observation":
        resources = [("observation", document)]
    else:
        yield Refusal("file", "The file is neither a FHIR Bundle nor an Observation.")
        return
    for where, resource in resources:
        if isinstance(resource, dict) and resource.get("resourceType") != "Observation":
            yield Refusal(where, f"A {resource.get('resourceType')} is not a measurement.")
            continue
        if isinstance(resource, dict) and not resource.get("id"):
            # Device exports often omit ids; the reading's identity is its content anyway.
            resource = {**resource, "id": "import"}
        try:
            observation = parse_resource(resource)
        except InvalidResource as error:
            yield Refusal(where, str(error).splitlines()[0][:200])
            continue
        yield observation_reading(observation, where)
