"""Validation of raw FHIR R4 JSON with the R4B models of fhir.resources.

The top-level ``fhir.resources`` models are R5 and reject R4 data (``Encounter.class``,
``MedicationRequest.medicationCodeableConcept``), so every resource goes through ``R4B``.
"""

import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from ehr_sync.value_sets import InvalidCode, check_statuses

# A dateTime with a time but no offset: FHIR requires the offset, but some EHRs leave it out.
_NAIVE_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?")
# A line of an NDJSON file that is not JSON arrives as {"resourceType": ..., UNREADABLE: why}.
UNREADABLE = "_unreadable_line"
# Free-text elements are never touched, even if their words happen to look like a timestamp.
_FREE_TEXT_KEYS = frozenset({"valueString", "text", "div", "display", "description", "comment"})


class InvalidResource(ValueError):
    """The JSON is not a FHIR R4 resource this importer can read; the message says why."""


def parse_resource(resource: Any) -> FHIRAbstractModel:
    """Validate one R4 resource (a JSON object) into its R4B model, or raise InvalidResource."""
    if not isinstance(resource, dict):
        raise InvalidResource("Empty: no resource" if resource is None else "Not a JSON object")
    if isinstance(why := resource.get(UNREADABLE), str):
        raise InvalidResource(why)
    resource_type = resource.get("resourceType")
    if not resource_type or not isinstance(resource_type, str):
        raise InvalidResource("No resourceType")
    if not resource.get("id"):
        raise InvalidResource("No id")
    try:
        model_class = get_fhir_model_class(resource_type)
    except ValueError:
        raise InvalidResource(f"Unknown resourceType {resource_type!r}") from None
    model = _validated(model_class, resource)
    try:
        check_statuses(model)
    except InvalidCode as error:
        raise InvalidResource(f"Not valid FHIR R4: {error}") from None
    return model


def _validated(model_class: type[FHIRAbstractModel], resource: dict[str, Any]) -> FHIRAbstractModel:
    try:
        return model_class.model_validate(resource)
    except ValidationError as first_error:
        # Only on failure, so valid resources pay nothing: retry with offset-less times as UTC.
        repaired = assume_utc_for_naive_datetimes(resource)
        if repaired == resource:
            raise InvalidResource(f"Not valid FHIR R4: {first_error}") from None
        try:
            return model_class.model_validate(repaired)
        except ValidationError as error:
            raise InvalidResource(f"Not valid FHIR R4: {error}") from None


def assume_utc_for_naive_datetimes(value: Any, key: str = "") -> Any:
    """A copy of the JSON with every offset-less dateTime ("2024-05-01T09:30:00") given "Z"."""
    if isinstance(value, dict):
        return {k: assume_utc_for_naive_datetimes(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [assume_utc_for_naive_datetimes(v, key) for v in value]
    if isinstance(value, str) and key not in _FREE_TEXT_KEYS and _NAIVE_DATETIME.fullmatch(value):
        return value + "Z"
    return value
