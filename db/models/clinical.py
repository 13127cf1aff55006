"""The clinical record synced from the EHR (FHIR resources a patient sees on every page)."""

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, Index, UniqueConstraint

from db.models.base import CodedValue, FhirRow
from db.models.people import Patient, Practitioner


class Condition(FhirRow, CodedValue, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_condition_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    clinical_status: str | None = Field(default=None, max_length=32)
    onset_date: date | None = None
    abatement_date: date | None = None


class MedicationRequest(FhirRow, CodedValue, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_medreq_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    status: str = Field(default="active", max_length=32)
    dosage_text: str | None = Field(default=None, max_length=1000)
    authored_on: datetime | None = None
    prescriber_id: int | None = Field(default=None, foreign_key="practitioner.id")


class AllergyIntolerance(FhirRow, CodedValue, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_allergy_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    clinical_status: str | None = Field(default=None, max_length=32)
    criticality: str | None = Field(default=None, max_length=32)
    reaction: str | None = Field(default=None, max_length=500)
    recorded_date: datetime | None = None


class Immunization(FhirRow, CodedValue, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_immunization_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    status: str = Field(default="completed", max_length=32)
    occurrence: datetime | None = None
    # False: reported from elsewhere (another clinic, a pharmacy), not given by this EHR's clinic.
    primary_source: bool | None = None


class Encounter(FhirRow, table=True):
    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_encounter_source_fhir"),
        Index("ix_encounter_patient_start", "patient_id", "start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="finished", max_length=32)
    class_code: str | None = Field(default=None, max_length=32)
    type_code: str | None = Field(default=None, max_length=64)
    type_display: str = Field(default="", max_length=500)
    reason: str | None = Field(default=None, max_length=500)
    start: datetime | None = None
    end: datetime | None = None
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    # Where and by whom (serviceProvider, location[0]): names shown on visits.
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")


class ObservationCategory(StrEnum):
    LABORATORY = "laboratory"
    VITAL_SIGNS = "vital-signs"


class Observation(FhirRow, CodedValue, table=True):
    """One lab result or vital sign. A blood pressure is two rows (systolic, diastolic)."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", "code", name="uq_observation_source_fhir_code"),
        Index("ix_observation_patient_category_time", "patient_id", "category", "effective_at"),
        Index("ix_observation_patient_code_time", "patient_id", "code", "effective_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    category: str = Field(default=ObservationCategory.LABORATORY, max_length=32)
    status: str = Field(default="final", max_length=32)
    # Required here: the unique key and the code index include it.
    code: str = Field(default="", max_length=64)
    value: float | None = None
    value_string: str | None = Field(default=None, max_length=1000)
    unit: str | None = Field(default=None, max_length=64)
    ref_low: float | None = None
    ref_high: float | None = None
    # A code has no length limit in FHIR (v3 ObservationInterpretation has 20-character codes).
    interpretation: str | None = None
    effective_at: datetime | None = None
    report_fhir_id: str | None = Field(default=None, max_length=64)


class DiagnosticReport(FhirRow, CodedValue, table=True):
    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_report_source_fhir"),
        Index("ix_report_patient_time", "patient_id", "effective_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="final", max_length=32)
    effective_at: datetime | None = None
    issued_at: datetime | None = None
    conclusion: str | None = Field(default=None, max_length=4000)


class Appointment(FhirRow, table=True):
    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_appointment_source_fhir"),
        Index("ix_appointment_patient_start", "patient_id", "start"),
        Index("ix_appointment_practitioner_start", "practitioner_id", "start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    status: str = Field(default="booked", max_length=32)
    service_type: str = Field(default="", max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    start: datetime | None = None
    end: datetime | None = None


class Document(FhirRow, table=True):
    """DocumentReference: metadata plus (small) inline content."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_document_source_fhir"),
        Index("ix_document_patient_date", "patient_id", "date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="current", max_length=32)
    type_code: str | None = Field(default=None, max_length=64)
    type_display: str = Field(default="", max_length=500)
    description: str | None = Field(default=None, max_length=1000)
    date: datetime | None = None
    content_type: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=500)
    text: str | None = None


FHIR_TABLES: tuple[type[FhirRow], ...] = (
    Patient,
    Practitioner,
    Condition,
    MedicationRequest,
    AllergyIntolerance,
    Immunization,
    Encounter,
    Observation,
    DiagnosticReport,
    Appointment,
    Document,
)
