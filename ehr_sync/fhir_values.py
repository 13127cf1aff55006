"""Conversions from parsed FHIR R4 datatypes to plain column values."""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.reference import Reference

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"

T = TypeVar("T")


def as_utc(value: datetime | date | str | None) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware UTC datetime.

    A date-only value becomes midnight UTC, a partial date ("2020", "2020-05") its first day, and
    a dateTime without an offset is taken as UTC.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    day = as_date(value)
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def as_date(value: datetime | date | str | None) -> date | None:
    """A FHIR date or dateTime as a calendar date; a partial date ("1980-04") is its first day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        # The date as recorded, in the offset the EHR wrote it with: a 23:30-05:00 onset is
        # that day for the patient, not the next day in UTC.
        return value.date()
    if isinstance(value, date):
        return value
    parts = [int(p) for p in str(value).split("-")[:3]]
    year, month, day = (parts + [1, 1])[:3]
    return date(year, month, day)


def as_float(value: Decimal | int | float | None) -> float | None:
    return None if value is None else float(value)


def first(items: Sequence[T] | None) -> T | None:
    return items[0] if items else None


def pick_coding(
    concept: CodeableConcept | None, preferred_systems: Sequence[str] = ()
) -> Coding | None:
    """The coding to store: the first in the most preferred system, else the first with a code."""
    codings = [c for c in (concept.coding or []) if c.code] if concept else []
    for system in preferred_systems:
        for coding in codings:
            if coding.system == system:
                return coding
    return first(codings)


def concept_columns(
    concept: CodeableConcept | None, preferred_systems: Sequence[str] = ()
) -> tuple[str | None, str | None, str]:
    """(code system, code, display) of a CodeableConcept; display falls back to its text."""
    coding = pick_coding(concept, preferred_systems)
    display = (coding.display if coding else None) or (concept.text if concept else None) or ""
    if coding is None:
        return None, None, display
    return coding.system, coding.code, display


def codeable_concept(
    system: str | None, code: str | None, display: str | None
) -> CodeableConcept | None:
    """The inverse of ``concept_columns``: a CodeableConcept (validated on construction) from a
    row's (code system, code, display). The code goes in a Coding with its system and display; the
    display is also the text, so a reader without the code system still sees words. None when the
    row holds neither a code nor words. Shared by the record export and the EHR write-back."""
    code = code or None
    display = display or None
    if code is None and display is None:
        return None
    coding = Coding(system=system or None, code=code, display=display) if code else None
    return CodeableConcept(coding=[coding] if coding else None, text=display)


def concept_label(concept: CodeableConcept | None) -> str | None:
    """Words a person can read for a CodeableConcept: its text, else a display, else a code."""
    if concept is None:
        return None
    if concept.text:
        return concept.text
    codings = concept.coding or []
    return next((c.display for c in codings if c.display), None) or next(
        (c.code for c in codings if c.code), None
    )


def status_code(concept: CodeableConcept | None) -> str | None:
    """The code of a status-like CodeableConcept (clinicalStatus, interpretation)."""
    coding = pick_coding(concept)
    return coding.code if coding else None


def join_labels(concepts: Iterable[CodeableConcept] | None, separator: str = "; ") -> str | None:
    labels = [label for c in concepts or [] if (label := concept_label(c))]
    return separator.join(dict.fromkeys(labels)) or None


def reference_type(reference: Reference | None) -> str | None:
    """The resource type a reference points to ("Patient/1" -> "Patient"), if it says."""
    if reference is None:
        return None
    parsed = parse_reference(reference.reference or "")
    return parsed[0] if parsed else reference.type


def parse_reference(reference: str) -> tuple[str, str] | None:
    """("Patient", "123") from "Patient/123", an absolute URL, or a versioned "/_history/2" form."""
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2 or not parts[-2] or not parts[-1]:
        return None
    return parts[-2], parts[-1]


def preferred_name(names: Sequence[HumanName] | None) -> HumanName | None:
    """The official name, else the usual one, else the first."""
    for use in ("official", "usual"):
        for name in names or []:
            if name.use == use:
                return name
    return first(names)


def contact_value(telecom: Sequence[ContactPoint] | None, system: str) -> str | None:
    """The best-ranked phone or email (rank 1 first), skipping ones marked "old"."""
    points = [t for t in telecom or [] if t.system == system and t.value and t.use != "old"]
    points.sort(key=lambda t: t.rank if t.rank is not None else 1_000_000)
    return points[0].value if points else None


def address_line(addresses: Sequence[Address] | None) -> str | None:
    """The home address (else the first) as one line: "12 Elm St, Springfield, MA 01101, US"."""
    address = next((a for a in addresses or [] if a.use == "home"), None) or first(addresses)
    if address is None:
        return None
    if address.text:
        return address.text
    region = " ".join(p for p in (address.state, address.postalCode) if p)
    parts = [*(address.line or []), address.city, region, address.country]
    return ", ".join(p for p in parts if p) or None


def attachment_text(data: bytes | None, content_type: str | None) -> str | None:
    """Inline plain-text attachment data as text; other content types are not decoded."""
    if data is None or not content_type:
        return None
    mime, _, params = content_type.partition(";")
    if mime.strip().lower() != "text/plain":
        return None
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def meta_columns(resource: Any) -> dict[str, Any]:
    """The columns every FHIR row shares, from the resource id and meta."""
    meta = resource.meta
    return {
        "fhir_id": resource.id,
        "version_id": meta.versionId if meta else None,
        "last_updated": as_utc(meta.lastUpdated) if meta else None,
    }
