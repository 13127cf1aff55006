"""The record as a FHIR R4 ``collection`` Bundle, built from ``fhir.resources.R4B`` models.

Each resource is a model, so a value FHIR would refuse fails where it is built (naming the field),
not in a check of the finished file. One small builder per record type; ``build_bundle`` only
walks the table of them. Codes go through ``ehr_sync``'s ``codeable_concept``, the inverse of the
reader the EHR sync stores them with, so an exported code reads back as the same columns.
"""

import base64
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.allergyintolerance import (
    AllergyIntolerance,
    AllergyIntoleranceReaction,
)
from fhir.resources.R4B.appointment import Appointment, AppointmentParticipant
from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference, DocumentReferenceContent
from fhir.resources.R4B.dosage import Dosage
from fhir.resources.R4B.encounter import Encounter, EncounterParticipant
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.immunization import Immunization
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation, ObservationReferenceRange
from fhir.resources.R4B.patient import Patient, PatientCommunication
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from db import models
from ehr_sync.fhir_values import codeable_concept
from portal.services.record_export.rows import RecordRows

_NS = uuid.UUID("5f0c7c1e-2d55-4e0c-9a51-6c1d0f7f6a10")  # fixed: the same row, the same fullUrl
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PORTAL_ID_SYSTEM = "urn:clinic-portal:source-id"
GENDERS = ("male", "female", "other", "unknown")


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(value: str | None) -> str | None:
    """FHIR strings may not be empty: an empty column is an absent element."""
    return value or None


def _words(text: str | None) -> CodeableConcept | None:
    return CodeableConcept(text=text) if text else None


def _status(system: str, code: str | None) -> CodeableConcept | None:
    return codeable_concept(system, code, None)


def _named(system: str | None, code: str | None, display: str | None) -> CodeableConcept:
    """A concept the resource requires: "Unknown" in words when the row has neither."""
    return codeable_concept(system, code, display) or CodeableConcept(text="Unknown")


def _url(resource_type: str, row_id: int) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, f'{resource_type}/{row_id}')}"


@dataclass(frozen=True)
class _Context:
    """What every resource of one patient's record refers to."""

    rows: RecordRows
    subject: Reference

    def practitioner(self, practitioner_id: int | None) -> Reference | None:
        name = self.rows.practitioners.get(practitioner_id) if practitioner_id else None
        return Reference(display=name) if name else None


def _common(resource_type: str, row: Any) -> dict[str, Any]:
    """The id, and where the entry came from (the EHR's id), so a re-import can match it."""
    identifier = (
        [Identifier(system=f"{PORTAL_ID_SYSTEM}:{quote(row.source, safe='')}", value=row.fhir_id)]
        if row.fhir_id
        else None
    )
    return {"id": f"{resource_type.lower()}-{row.id}", "identifier": identifier}


def _patient(p: models.Patient) -> Patient:
    telecom = [
        ContactPoint(system=system, value=value)
        for system, value in (("phone", p.phone), ("email", p.email))
        if value
    ]
    return Patient(
        **_common("Patient", p),
        name=[
            HumanName(given=[p.given_name] if p.given_name else None, family=_text(p.family_name))
        ],
        birthDate=_iso(p.birth_date),
        gender=p.sex if p.sex in GENDERS else None,
        telecom=telecom or None,
        address=[Address(text=p.address)] if p.address else None,
        communication=[PatientCommunication(language=codeable_concept(None, p.language, None))]
        if p.language
        else None,
        deceasedBoolean=p.deceased or None,
    )


def _condition(c: models.Condition, ctx: _Context) -> Condition:
    return Condition(
        **_common("Condition", c),
        clinicalStatus=_status(CONDITION_CLINICAL, c.clinical_status),
        code=_named(c.code_system, c.code, c.display),
        subject=ctx.subject,
        onsetDateTime=_iso(c.onset_date),
        abatementDateTime=_iso(c.abatement_date),
    )


def _medication(m: models.MedicationRequest, ctx: _Context) -> MedicationRequest:
    return MedicationRequest(
        **_common("MedicationRequest", m),
        status=m.status or "unknown",
        intent="order",
        medicationCodeableConcept=_named(m.code_system, m.code, m.display),
        subject=ctx.subject,
        authoredOn=_iso(m.authored_on),
        requester=ctx.practitioner(m.prescriber_id),
        dosageInstruction=[Dosage(text=m.dosage_text)] if m.dosage_text else None,
    )


def _allergy(a: models.AllergyIntolerance, ctx: _Context) -> AllergyIntolerance:
    reaction = (
        AllergyIntoleranceReaction(manifestation=[_words(a.reaction)]) if a.reaction else None
    )
    return AllergyIntolerance(
        **_common("AllergyIntolerance", a),
        clinicalStatus=_status(ALLERGY_CLINICAL, a.clinical_status),
        criticality=_text(a.criticality),
        code=_named(a.code_system, a.code, a.display),
        patient=ctx.subject,
        recordedDate=_iso(a.recorded_date),
        reaction=[reaction] if reaction else None,
    )


def _immunization(i: models.Immunization, ctx: _Context) -> Immunization:
    return Immunization(
        **_common("Immunization", i),
        status=i.status or "completed",
        vaccineCode=_named(i.code_system, i.code, i.display),
        patient=ctx.subject,
        occurrenceDateTime=_iso(i.occurrence),
        occurrenceString=None if i.occurrence else "unknown",
    )


def _quantity(value: float | None, unit: str | None) -> Quantity | None:
    return Quantity(value=value, unit=_text(unit)) if value is not None else None


def _observation(o: models.Observation, ctx: _Context) -> Observation:
    has_range = o.ref_low is not None or o.ref_high is not None
    reference_range = ObservationReferenceRange(
        low=_quantity(o.ref_low, o.unit), high=_quantity(o.ref_high, o.unit)
    )
    return Observation(
        **_common("Observation", o),
        status=o.status or "final",
        category=[_status(OBSERVATION_CATEGORY, o.category)],
        code=_named(o.code_system, o.code, o.display),
        subject=ctx.subject,
        effectiveDateTime=_iso(o.effective_at),
        valueQuantity=_quantity(o.value, o.unit),
        valueString=_text(o.value_string) if o.value is None else None,
        referenceRange=[reference_range] if has_range else None,
        interpretation=[_status(INTERPRETATION, o.interpretation)] if o.interpretation else None,
    )


def _report(r: models.DiagnosticReport, ctx: _Context) -> DiagnosticReport:
    return DiagnosticReport(
        **_common("DiagnosticReport", r),
        status=r.status or "final",
        code=_named(r.code_system, r.code, r.display),
        subject=ctx.subject,
        effectiveDateTime=_iso(r.effective_at),
        issued=_iso(r.issued_at),
        conclusion=_text(r.conclusion),
    )


def _encounter(e: models.Encounter, ctx: _Context) -> Encounter:
    seen_by = ctx.practitioner(e.practitioner_id)
    visit_type = codeable_concept(None, e.type_code, e.type_display)
    return Encounter(
        **_common("Encounter", e),
        status=e.status or "finished",
        class_fhir=Coding(system=ACT_CODE, code=e.class_code or "AMB"),
        type=[visit_type] if visit_type else None,
        subject=ctx.subject,
        participant=[EncounterParticipant(individual=seen_by)] if seen_by else None,
        period=Period(start=_iso(e.start), end=_iso(e.end)) if e.start else None,
        reasonCode=[_words(e.reason)] if e.reason else None,
    )


def _appointment(ap: models.Appointment, ctx: _Context) -> Appointment:
    patient = ctx.subject.model_copy(update={"display": ctx.rows.patient.display_name or None})
    actors = [patient, ctx.practitioner(ap.practitioner_id)]
    return Appointment(
        **_common("Appointment", ap),
        status=ap.status or "booked",
        serviceType=[_words(ap.service_type)] if ap.service_type else None,
        description=_text(ap.description),
        start=_iso(ap.start),
        end=_iso(ap.end),
        participant=[AppointmentParticipant(actor=a, status="accepted") for a in actors if a],
    )


def _document(d: models.Document, ctx: _Context) -> DocumentReference:
    attachment = Attachment(
        contentType=d.content_type or ("text/plain" if d.text else None),
        title=d.title or d.type_display or "Document",
        data=base64.b64encode(d.text.encode()).decode() if d.text else None,
    )
    return DocumentReference(
        **_common("DocumentReference", d),
        status=d.status or "current",
        type=codeable_concept(None, d.type_code, d.type_display),
        subject=ctx.subject,
        date=_iso(d.date),
        description=_text(d.description),
        content=[DocumentReferenceContent(attachment=attachment)],
    )


def _referral(s: models.ServiceRequest, ctx: _Context) -> ServiceRequest:
    return ServiceRequest(
        **_common("ServiceRequest", s),
        status=s.status or "active",
        intent=s.intent or "order",
        code=codeable_concept(s.code_system, s.code, s.display),
        subject=ctx.subject,
        authoredOn=_iso(s.authored_on),
        occurrenceDateTime=_iso(s.occurrence),
        requester=ctx.practitioner(s.requester_id),
        performerType=_words(s.specialty),
        performer=[Reference(display=s.performer_name)] if s.performer_name else None,
        reasonCode=[_words(s.reason)] if s.reason else None,
    )


# In the order the bundle lists them: the rows attribute and the builder of its resources.
RESOURCE_BUILDERS: tuple[tuple[str, Callable[[Any, _Context], Resource]], ...] = (
    ("conditions", _condition),
    ("medications", _medication),
    ("allergies", _allergy),
    ("immunizations", _immunization),
    ("observations", _observation),
    ("reports", _report),
    ("encounters", _encounter),
    ("appointments", _appointment),
    ("documents", _document),
    ("referrals", _referral),
)


def _entries(rows: RecordRows, ctx: _Context) -> Iterable[tuple[Any, Resource]]:
    yield rows.patient, _patient(rows.patient)
    for attribute, build in RESOURCE_BUILDERS:
        for row in getattr(rows, attribute):
            yield row, build(row, ctx)


def build_bundle(rows: RecordRows, now: datetime) -> Bundle:
    """The record as a FHIR R4 ``collection`` Bundle of validated resources."""
    ctx = _Context(
        rows=rows, subject=Reference(reference=_url("Patient", models.saved_id(rows.patient)))
    )
    return Bundle(
        id=str(uuid.uuid5(_NS, f"export/{rows.patient.id}/{now.isoformat()}")),
        type="collection",
        timestamp=now.isoformat(),
        entry=[
            BundleEntry(fullUrl=_url(resource.get_resource_type(), row.id), resource=resource)
            for row, resource in _entries(rows, ctx)
        ],
    )
