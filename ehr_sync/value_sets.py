"""The R4 status value sets with a required binding, for the types the importer stores.

``fhir.resources`` types a status as a plain ``code``, so "bogus" would pass validation and be
shown as a normal result. The standard binds each of these elements to a closed value set: a
value outside it makes the resource invalid, and the importer quarantines it.
"""

from typing import Any

# (resource type, element) -> the codes R4 allows.
REQUIRED_STATUS: dict[tuple[str, str], frozenset[str]] = {
    ("Observation", "status"): frozenset(
        [
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        ]
    ),
    ("DiagnosticReport", "status"): frozenset(
        [
            "registered",
            "partial",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "appended",
            "cancelled",
            "entered-in-error",
            "unknown",
        ]
    ),
    ("MedicationRequest", "status"): frozenset(
        [
            "active",
            "on-hold",
            "cancelled",
            "completed",
            "entered-in-error",
            "stopped",
            "draft",
            "unknown",
        ]
    ),
    ("Immunization", "status"): frozenset(["completed", "entered-in-error", "not-done"]),
    ("Encounter", "status"): frozenset(
        [
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        ]
    ),
    ("Appointment", "status"): frozenset(
        [
            "proposed",
            "pending",
            "booked",
            "arrived",
            "fulfilled",
            "cancelled",
            "noshow",
            "entered-in-error",
            "checked-in",
            "waitlist",
        ]
    ),
    ("DocumentReference", "status"): frozenset(["current", "superseded", "entered-in-error"]),
    ("ServiceRequest", "status"): frozenset(
        ["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]
    ),
    ("Procedure", "status"): frozenset(
        [
            "preparation",
            "in-progress",
            "not-done",
            "on-hold",
            "stopped",
            "completed",
            "entered-in-error",
            "unknown",
        ]
    ),
    ("CarePlan", "status"): frozenset(
        ["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]
    ),
    ("Goal", "lifecycleStatus"): frozenset(
        [
            "proposed",
            "planned",
            "accepted",
            "active",
            "on-hold",
            "completed",
            "cancelled",
            "entered-in-error",
            "rejected",
        ]
    ),
    ("Device", "status"): frozenset(["active", "inactive", "entered-in-error", "unknown"]),
    ("ImagingStudy", "status"): frozenset(
        ["registered", "available", "cancelled", "entered-in-error", "unknown"]
    ),
}


class InvalidCode(ValueError):
    """A coded element holds a value outside its required value set."""


_BY_TYPE: dict[str, list[tuple[str, frozenset[str]]]] = {}
for (_type, _element), _allowed in REQUIRED_STATUS.items():
    _BY_TYPE.setdefault(_type, []).append((_element, _allowed))


def check_statuses(resource: Any) -> None:
    """Raise InvalidCode when a status element holds a code its value set does not allow."""
    resource_type = resource.get_resource_type()
    for element, allowed in _BY_TYPE.get(resource_type, ()):
        value = getattr(resource, element, None)
        if value is not None and value not in allowed:
            raise InvalidCode(
                f"{element} {value!r} is not a valid {resource_type} status; "
                f"R4 allows {', '.join(sorted(allowed))}"
            )
