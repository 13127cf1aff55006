"""References in mapped rows: a ``Ref`` becomes a row id once the importer has looked it up."""

from collections.abc import Sequence
from dataclasses import dataclass

from fhir.resources.R4B.reference import Reference

from ehr_sync.fhir_values import reference_type


class MappingError(ValueError):
    """The resource is valid FHIR but cannot be stored (for example, it names no patient)."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference that becomes a row id once the importer has looked it up."""

    target: str  # "Patient", "Practitioner", "Organization" or "Location"
    reference: str  # as written: "Patient/123", an absolute URL, or a bundle's "urn:uuid:..."
    required: bool  # a required target that is missing quarantines the resource


def patient_ref(reference: Reference | None, element: str = "subject") -> Ref:
    if reference is None or not reference.reference:
        raise MappingError(f"has no patient reference in {element}")
    kind = reference_type(reference)
    if kind not in (None, "Patient"):
        raise MappingError(f"{element} is {reference.reference}, not a Patient")
    return Ref("Patient", reference.reference, required=True)


def optional_ref(target: str, references: Sequence[Reference | None]) -> Ref | None:
    """The first reference to ``target`` (or a bundle's "urn:" alias, which the importer checks)
    as an optional link: left empty if that resource is not imported."""
    for reference in references:
        if not (reference and reference.reference):
            continue
        if reference_type(reference) == target or reference.reference.startswith("urn:"):
            return Ref(target, reference.reference, required=False)
    return None
