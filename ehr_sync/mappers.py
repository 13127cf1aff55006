"""Mappers from parsed FHIR R4 resources (``fhir.resources.R4B`` models) to db.models rows.

A mapper is pure: it returns column dicts and puts a ``Ref`` wherever a row needs the database id
of a Patient or Practitioner; the importer looks those up once per batch. The importer also adds
``source``. Every datetime is aware UTC; codes keep their system, code and display.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.patient import PatientCommunication
from fhir.resources.R4B.reference import Reference

from db import models
from db.models import FhirRow, ObservationCategory
from ehr_sync import mappers_record as record
from ehr_sync.dosage import dosage_instructions
from ehr_sync.fhir_values import (
    CVX,
    ICD10,
    ICD10_CM,
    LOINC,
    RXNORM,
    SNOMED,
    address_line,
    as_date,
    as_float,
    as_utc,
    attachment_text,
    concept_columns,
    concept_label,
    contact_value,
    first,
    join_labels,
    meta_columns,
    pick_coding,
    preferred_name,
    reference_type,
    status_code,
)
from ehr_sync.refs import MappingError, Ref, optional_ref
from ehr_sync.refs import patient_ref as _patient_ref
from ehr_sync.tables import Row, ValueTooLong, fit_row

__all__ = ["MAPPINGS", "MappingError", "Ref", "map_resource", "report_result_references"]

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
MRN_TYPE_CODE = "MR"


def _practitioner_ref(references: Sequence[Reference | None]) -> Ref | None:
    """The first reference that points to a Practitioner, as an optional link."""
    for reference in references:
        if reference and reference.reference and reference_type(reference) == "Practitioner":
            return Ref("Practitioner", reference.reference, required=False)
    return None


# --- people ---------------------------------------------------------------------------------


def map_patient(patient: Any) -> list[Row]:
    name = preferred_name(patient.name)
    given = " ".join(g for g in name.given or [] if g is not None) if name else ""
    family = (name.family or "") if name else ""
    return [
        {
            **meta_columns(patient),
            "mrn": _mrn(patient.identifier),
            "given_name": given,
            "family_name": family,
            "given_name_lower": given.lower(),
            "family_name_lower": family.lower(),
            "birth_date": as_date(patient.birthDate),
            "sex": patient.gender,
            "phone": contact_value(patient.telecom, "phone"),
            "email": contact_value(patient.telecom, "email"),
            "address": address_line(patient.address),
            "language": _language(patient.communication),
            "deceased": bool(patient.deceasedBoolean) or patient.deceasedDateTime is not None,
            "primary_practitioner_id": _practitioner_ref(patient.generalPractitioner or []),
        }
    ]


def _mrn(identifiers: Sequence[Identifier] | None) -> str | None:
    for identifier in identifiers or []:
        codings = (identifier.type.coding or []) if identifier.type else []
        if identifier.value and any(c.code == MRN_TYPE_CODE for c in codings):
            return identifier.value
    return None


def _language(communication: Sequence[PatientCommunication] | None) -> str | None:
    """The preferred language's code ("en-US"), else the first one's."""
    chosen = next((c for c in communication or [] if c.preferred), None) or first(communication)
    if chosen is None:
        return None
    coding = pick_coding(chosen.language)
    return coding.code if coding else chosen.language.text


def map_practitioner(practitioner: Any) -> list[Row]:
    name = preferred_name(practitioner.name)
    qualification = first(practitioner.qualification)
    return [
        {
            **meta_columns(practitioner),
            "name": _practitioner_name(name) if name else "",
            "qualification": concept_label(qualification.code) if qualification else None,
            "phone": contact_value(practitioner.telecom, "phone"),
        }
    ]


def _practitioner_name(name: Any) -> str:
    """ "Dr. Ana Ruiz, MD" from prefix, given, family and suffix; the text if that is all."""
    words = " ".join([*(name.prefix or []), *(name.given or []), name.family or ""]).strip()
    suffix = " ".join(name.suffix or [])
    if not words:
        return name.text or ""
    return f"{words}, {suffix}" if suffix else words


# --- clinical record ------------------------------------------------------------------------


def map_condition(condition: Any) -> list[Row]:
    system, code, display = concept_columns(condition.code, (SNOMED, ICD10_CM, ICD10))
    return [
        {
            **meta_columns(condition),
            "patient_id": _patient_ref(condition.subject),
            "code_system": system,
            "code": code,
            "display": display,
            "clinical_status": status_code(condition.clinicalStatus),
            "onset_date": as_date(_period_start(condition.onsetDateTime, condition.onsetPeriod)),
            "abatement_date": as_date(
                _period_start(condition.abatementDateTime, condition.abatementPeriod)
            ),
        }
    ]


def map_medication_request(request: Any) -> list[Row]:
    # A medicationReference points to a Medication resource we do not import: keep its words.
    concept = request.medicationCodeableConcept
    system, code, display = concept_columns(concept, (RXNORM,))
    if concept is None and request.medicationReference:
        display = request.medicationReference.display or ""
    return [
        {
            **meta_columns(request),
            "patient_id": _patient_ref(request.subject),
            "status": request.status,
            "code_system": system,
            "code": code,
            "display": display,
            # As written: the EHR's text, else the structured dose and timing in words.
            "dosage_text": dosage_instructions(request.dosageInstruction),
            "authored_on": as_utc(request.authoredOn),
            "prescriber_id": _practitioner_ref([request.requester]),
        }
    ]


def map_allergy_intolerance(allergy: Any) -> list[Row]:
    system, code, display = concept_columns(allergy.code, (SNOMED, RXNORM))
    manifestations = [m for r in allergy.reaction or [] for m in r.manifestation or []]
    return [
        {
            **meta_columns(allergy),
            "patient_id": _patient_ref(allergy.patient, "patient"),
            "code_system": system,
            "code": code,
            "display": display,
            "clinical_status": status_code(allergy.clinicalStatus),
            "criticality": allergy.criticality,
            "reaction": join_labels(manifestations, ", "),
            "recorded_date": as_utc(allergy.recordedDate),
        }
    ]


def map_immunization(immunization: Any) -> list[Row]:
    system, code, display = concept_columns(immunization.vaccineCode, (CVX,))
    return [
        {
            **meta_columns(immunization),
            "patient_id": _patient_ref(immunization.patient, "patient"),
            "status": immunization.status,
            "code_system": system,
            "code": code,
            "display": display,
            # occurrenceString ("spring 2019") has no usable time.
            "occurrence": as_utc(immunization.occurrenceDateTime),
            "primary_source": immunization.primarySource,
        }
    ]


def map_encounter(encounter: Any) -> list[Row]:
    _, type_code, type_display = concept_columns(first(encounter.type), (SNOMED,))
    period = encounter.period
    return [
        {
            **meta_columns(encounter),
            "patient_id": _patient_ref(encounter.subject),
            "status": encounter.status,
            "class_code": encounter.class_fhir.code,
            "type_code": type_code,
            "type_display": type_display,
            "reason": join_labels(encounter.reasonCode),
            "start": as_utc(period.start) if period else None,
            "end": as_utc(period.end) if period else None,
            "practitioner_id": _practitioner_ref(
                [p.individual for p in encounter.participant or []]
            ),
            "organization_id": optional_ref("Organization", [encounter.serviceProvider]),
            "location_id": optional_ref(
                "Location", [loc.location for loc in encounter.location or []]
            ),
        }
    ]


# --- results --------------------------------------------------------------------------------

_VALUE_ELEMENTS = (
    "valueQuantity",
    "valueCodeableConcept",
    "valueString",
    "valueBoolean",
    "valueInteger",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
)


def map_observation(observation: Any) -> list[Row]:
    """One row per Observation, or one per component for a panel without its own value (a blood
    pressure 85354-9 becomes a systolic 8480-6 row and a diastolic 8462-4 row, same fhir_id)."""
    shared = {
        **meta_columns(observation),
        "patient_id": _patient_ref(observation.subject),
        "category": _observation_category(observation.category),
        "status": observation.status,
        "effective_at": as_utc(
            observation.effectiveDateTime
            or observation.effectiveInstant
            or _period_start(None, observation.effectivePeriod)
        ),
        "report_fhir_id": None,
    }
    has_value = any(getattr(observation, element) is not None for element in _VALUE_ELEMENTS)
    if not observation.component or has_value:
        return [{**shared, **_result_columns(observation)}]
    rows = [{**shared, **_result_columns(component)} for component in observation.component]
    codes = [row["code"] for row in rows]
    if len(set(codes)) != len(codes):
        raise MappingError("has two components with the same code, which one row per code needs")
    return rows


def _observation_category(categories: Sequence[CodeableConcept] | None) -> str:
    codings = [c for concept in categories or [] for c in concept.coding or [] if c.code]
    chosen = next((c for c in codings if c.system == OBSERVATION_CATEGORY), None) or first(codings)
    # No category at all: the table's default (laboratory), as the model declares. (Every coding
    # kept has a code; the second test says so to mypy.)
    return chosen.code if chosen and chosen.code else ObservationCategory.LABORATORY.value


def _result_columns(element: Any) -> Row:
    """Code, value, unit, range and flag of an Observation or of one of its components."""
    system, code, display = concept_columns(element.code, (LOINC,))
    value, value_string, unit = None, None, None
    if (quantity := element.valueQuantity) is not None:
        value = as_float(quantity.value)
        unit = quantity.unit or quantity.code
        if quantity.comparator:  # "<5" must not read as 5
            value_string = f"{quantity.comparator}{quantity.value}"
    elif element.valueInteger is not None:
        value = float(element.valueInteger)
    elif element.valueString is not None:
        value_string = element.valueString
    elif element.valueCodeableConcept is not None:
        value_string = concept_label(element.valueCodeableConcept)
    elif element.valueBoolean is not None:
        value_string = "true" if element.valueBoolean else "false"
    reference_range = next((r for r in element.referenceRange or [] if r.low or r.high), None)
    return {
        "code_system": system,
        "code": code or "",
        "display": display,
        "value": value,
        "value_string": value_string,
        "unit": unit,
        "ref_low": _quantity_value(reference_range.low) if reference_range else None,
        "ref_high": _quantity_value(reference_range.high) if reference_range else None,
        "interpretation": status_code(first(element.interpretation)),
    }


def _quantity_value(quantity: Any) -> float | None:
    return as_float(quantity.value) if quantity else None


def map_diagnostic_report(report: Any) -> list[Row]:
    system, code, display = concept_columns(report.code, (LOINC,))
    return [
        {
            **meta_columns(report),
            "patient_id": _patient_ref(report.subject),
            "status": report.status,
            "code_system": system,
            "code": code,
            "display": display,
            "effective_at": as_utc(_period_start(report.effectiveDateTime, report.effectivePeriod)),
            "issued_at": as_utc(report.issued),
            "conclusion": report.conclusion,
        }
    ]


def report_result_references(report: Any) -> list[str]:
    """The Observation references a DiagnosticReport lists as its results."""
    return [r.reference for r in report.result or [] if r.reference]


# --- scheduling and documents ---------------------------------------------------------------


def map_appointment(appointment: Any) -> list[Row]:
    actors = [p.actor for p in appointment.participant or []]
    patient = next((a for a in actors if reference_type(a) == "Patient"), None)
    return [
        {
            **meta_columns(appointment),
            "patient_id": _patient_ref(patient, "participant"),
            "practitioner_id": _practitioner_ref(actors),
            "status": appointment.status,
            "service_type": concept_label(first(appointment.serviceType)) or "",
            "description": appointment.description,
            "start": as_utc(appointment.start),
            "end": as_utc(appointment.end),
        }
    ]


def map_document_reference(document: Any) -> list[Row]:
    _, type_code, type_display = concept_columns(document.type, (LOINC,))
    attachments = [c.attachment for c in document.content or []]
    attachment = first(attachments)
    # The text may sit in a later content entry than the metadata (a PDF plus its plain text).
    text = next(
        (t for a in attachments if (t := attachment_text(a.data, a.contentType)) is not None), None
    )
    return [
        {
            **meta_columns(document),
            "patient_id": _patient_ref(document.subject),
            "status": document.status,
            "type_code": type_code,
            "type_display": type_display,
            "description": document.description,
            "date": as_utc(document.date),
            "content_type": attachment.contentType if attachment else None,
            "title": attachment.title if attachment else None,
            "text": text,
        }
    ]


# --- referrals ------------------------------------------------------------------------------


def map_service_request(request: Any) -> list[Row]:
    """A referral: what for (code), to which specialty (performerType) and whom, and when."""
    system, code, display = concept_columns(request.code, (SNOMED,))
    performer = first(request.performer or [])
    occurrence = _period_start(request.occurrenceDateTime, request.occurrencePeriod)
    return [
        {
            **meta_columns(request),
            "patient_id": _patient_ref(request.subject),
            "status": request.status,
            "intent": request.intent,
            "code_system": system,
            "code": code,
            "display": display,
            "specialty": concept_label(request.performerType) or "",
            "performer_name": (performer.display or "") if performer else "",
            "reason": join_labels(request.reasonCode),
            "authored_on": as_utc(request.authoredOn),
            "occurrence": as_utc(occurrence),
            "requester_id": _practitioner_ref([request.requester]),
        }
    ]


def _period_start(moment: Any, period: Any) -> Any:
    return moment if moment is not None else (period.start if period else None)


# --- registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceMapping:
    model: type[FhirRow]  # every mapped table carries source, fhir_id and version_id
    map: Callable[[Any], list[Row]]


# In write order: a resource refers only to types above it, and a DiagnosticReport comes after
# the Observations it links to report_fhir_id.
MAPPINGS: dict[str, ResourceMapping] = {
    "Practitioner": ResourceMapping(models.Practitioner, map_practitioner),
    "Organization": ResourceMapping(models.Organization, record.map_organization),
    "Location": ResourceMapping(models.Location, record.map_location),
    "Patient": ResourceMapping(models.Patient, map_patient),
    "Condition": ResourceMapping(models.Condition, map_condition),
    "MedicationRequest": ResourceMapping(models.MedicationRequest, map_medication_request),
    "AllergyIntolerance": ResourceMapping(models.AllergyIntolerance, map_allergy_intolerance),
    "Immunization": ResourceMapping(models.Immunization, map_immunization),
    "Encounter": ResourceMapping(models.Encounter, map_encounter),
    "Observation": ResourceMapping(models.Observation, map_observation),
    "DiagnosticReport": ResourceMapping(models.DiagnosticReport, map_diagnostic_report),
    "Appointment": ResourceMapping(models.Appointment, map_appointment),
    "DocumentReference": ResourceMapping(models.Document, map_document_reference),
    "ServiceRequest": ResourceMapping(models.ServiceRequest, map_service_request),
    "Procedure": ResourceMapping(models.Procedure, record.map_procedure),
    "CarePlan": ResourceMapping(models.CarePlan, record.map_care_plan),
    "Goal": ResourceMapping(models.CareGoal, record.map_goal),
    "Device": ResourceMapping(models.Device, record.map_device),
    "ImagingStudy": ResourceMapping(models.ImagingStudy, record.map_imaging_study),
}


def map_resource(resource: Any) -> list[Row]:
    """Rows for one parsed resource of a supported type; raises MappingError if it cannot fit."""
    mapping = MAPPINGS.get(resource.get_resource_type())
    if mapping is None:
        raise MappingError(f"resourceType {resource.get_resource_type()} is not imported")
    try:
        return [fit_row(mapping.model, row) for row in mapping.map(resource)]
    except ValueTooLong as error:
        raise MappingError(str(error)) from None
