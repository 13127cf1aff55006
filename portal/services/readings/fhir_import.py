"""FHIR Observation bundles from home devices and other apps, validated with fhir.resources.R4B.

Each entry is validated on its own, so one broken resource is refused with its reason instead of
sinking the whole file. A blood pressure is a panel with systolic and diastolic components.
"""

import json
from collections.abc import Iterator
from typing import Any

from db.models import Patient
from ehr_sync.fhir_values import as_utc
from ehr_sync.parsing import InvalidResource, parse_resource
from portal.services.readings import codes, units
from portal.services.readings.entry import ImportBudget, ImportRefused, ReadingInput, Refusal

REFUSED_STATUSES = {"entered-in-error", "cancelled", "registered"}
MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64


def _too_deep(document: Any, limit: int) -> bool:
    """Whether the JSON nests deeper than ``limit`` (walked without recursion)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return False


class SubjectCheck:
    """Is an observation about the patient importing it?

    No subject (device exports often leave it out) counts as theirs. Otherwise the subject must
    name the patient: their FHIR id, their MRN as an identifier, or a Patient in the same bundle
    with that MRN or the same family name and birth date. Anything else is someone else's data.
    """

    def __init__(self, patient: Patient, document: dict[str, Any]) -> None:
        self.patient = patient
        self.bundled: dict[str, dict[str, Any]] = {}
        if document.get("resourceType") == "Bundle":
            for entry in document.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
                    if isinstance(entry.get("fullUrl"), str):
                        self.bundled[entry["fullUrl"]] = resource
                    if isinstance(resource.get("id"), str):
                        self.bundled[f"Patient/{resource['id']}"] = resource

    def _is_patient(self, resource: dict[str, Any]) -> bool:
        mrn = self.patient.mrn
        identifiers = resource.get("identifier")
        if (
            mrn
            and isinstance(identifiers, list)
            and any(isinstance(i, dict) and i.get("value") == mrn for i in identifiers)
        ):
            return True
        names = resource.get("name")
        families = {
            n.get("family", "").strip().lower()
            for n in (names if isinstance(names, list) else [])
            if isinstance(n, dict) and isinstance(n.get("family"), str)
        }
        birth = self.patient.birth_date
        return bool(
            birth
            and resource.get("birthDate") == birth.isoformat()
            and self.patient.family_name.strip().lower() in families
        )

    def ok(self, resource: dict[str, Any]) -> bool:
        subject = resource.get("subject")
        if subject is None:
            return True
        if not isinstance(subject, dict):
            return False
        reference = subject.get("reference")
        if isinstance(reference, str):
            if self.patient.fhir_id and (
                reference == f"Patient/{self.patient.fhir_id}"
                or reference.endswith(f"/Patient/{self.patient.fhir_id}")
            ):
                return True
            bundled = self.bundled.get(reference)
            return bundled is not None and self._is_patient(bundled)
        identifier = subject.get("identifier")
        if isinstance(identifier, dict) and self.patient.mrn:
            return identifier.get("value") == self.patient.mrn
        return False


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


def parse_fhir(
    data: bytes,
    *,
    patient: Patient | None = None,
    budget: ImportBudget | None = None,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Iterator[ReadingInput | Refusal]:
    """Readings from a FHIR Bundle (or a single Observation) in JSON.

    A file that is not JSON or FHIR, too big or too deep, or (given ``patient``) holds an
    observation about somebody else raises ``ImportRefused``: nothing of it is stored.
    """
    if len(data) > max_bytes:
        raise ImportRefused(f"the file is larger than {max_bytes // 1024**2} MB.")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ImportRefused("the file is not JSON.") from None
    except RecursionError:
        raise ImportRefused(
            f"the file nests deeper than {max_depth} levels; it is not a FHIR bundle."
        ) from None
    if _too_deep(document, max_depth):
        raise ImportRefused(
            f"the file nests deeper than {max_depth} levels; it is not a FHIR bundle."
        )
    if not isinstance(document, dict):
        raise ImportRefused("the file is not a FHIR resource.")
    if document.get("resourceType") == "Bundle":
        entries = document.get("entry") or []
        if not isinstance(entries, list):
            raise ImportRefused("the bundle's entries are not a list.")
        resources = [
            (f"entry {n}", e.get("resource") if isinstance(e, dict) else None)
            for n, e in enumerate(entries, start=1)
        ]
    elif document.get("resourceType") == "Observation":
        resources = [("observation", document)]
    else:
        raise ImportRefused("the file is neither a FHIR Bundle nor an Observation.")
    subjects = SubjectCheck(patient, document) if patient is not None else None
    if subjects is not None and patient is not None:
        for where, resource in resources:
            if (
                isinstance(resource, dict)
                and resource.get("resourceType") == "Observation"
                and not subjects.ok(resource)
            ):
                raise ImportRefused(
                    f"the observation at {where} is about another person, not "
                    f"{patient.display_name}. Import only your own readings."
                )
    for where, resource in resources:
        if budget is not None:
            budget.count()
        if isinstance(resource, dict) and resource.get("resourceType") != "Observation":
            yield Refusal(
                where, f"A {str(resource.get('resourceType'))[:40]} is not a measurement."
            )
            continue
        if isinstance(resource, dict) and not resource.get("id"):
            # Device exports often omit ids; the reading's identity is its content anyway.
            resource = {**resource, "id": "import"}
        try:
            observation = parse_resource(resource)
        except InvalidResource as error:
            yield Refusal(where, str(error).splitlines()[0][:200])
            continue
        except RecursionError:
            yield Refusal(where, "The observation nests too deeply to read.")
            continue
        yield observation_reading(observation, where)
