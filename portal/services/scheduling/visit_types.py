"""The clinic's visit types. Codes are what templates and bookings store; labels are shown."""

from dataclasses import dataclass


@dataclass(frozen=True)
class VisitType:
    code: str
    label: str
    questionnaire: str = "general"


VISIT_TYPES: dict[str, VisitType] = {
    v.code: v
    for v in (
        VisitType("annual", "Annual physical", questionnaire="phq2"),
        VisitType("follow_up", "Follow-up visit"),
        VisitType("new_problem", "New problem"),
        VisitType("new_patient", "New patient visit", questionnaire="phq2"),
    )
}

MODE_LABELS = {"in_person": "In person", "video": "Video visit"}


def label(code: str) -> str:
    known = VISIT_TYPES.get(code)
    return known.label if known else code.replace("_", " ").capitalize()


def parse_codes(text: str) -> list[str]:
    """Template visit types are stored comma-separated; blanks are ignored."""
    return [c.strip() for c in text.split(",") if c.strip()]
