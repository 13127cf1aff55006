"""The rest of the record: places, procedures, care plans, care goals, devices, imaging."""

from datetime import date, datetime

from sqlmodel import Field, Index, UniqueConstraint

from db.models.base import CodedValue, FhirRow


class Organization(FhirRow, table=True):
    """A clinic, hospital or lab (FHIR Organization): the name shown on visits."""

    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_organization_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    type_display: str = Field(default="", max_length=200)
    phone: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=500)


class Location(FhirRow, table=True):
    """A place care happens (FHIR Location): a site, a room, a ward."""

    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_location_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=64)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")


class Procedure(FhirRow, CodedValue, table=True):
    """A procedure or operation done to the patient (FHIR Procedure)."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_procedure_source_fhir"),
        Index("ix_procedure_patient_performed", "patient_id", "performed_start"),
        Index("ix_procedure_patient_code", "patient_id", "code"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="completed", max_length=32)
    category_code: str | None = Field(default=None, max_length=64)
    category: str = Field(default="", max_length=200)
    performed_start: datetime | None = None
    performed_end: datetime | None = None
    reason: str | None = Field(default=None, max_length=500)
    body_site: str | None = Field(default=None, max_length=200)
    outcome: str | None = Field(default=None, max_length=200)
    performer_id: int | None = Field(default=None, foreign_key="practitioner.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")


class CarePlan(FhirRow, table=True):
    """A plan of care (FHIR CarePlan); its activities are kept as JSON (one list per plan)."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_careplan_source_fhir"),
        Index("ix_careplan_patient_start", "patient_id", "period_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="active", max_length=32)
    intent: str = Field(default="plan", max_length=32)
    title: str = Field(default="", max_length=500)
    category: str = Field(default="", max_length=500)
    description: str | None = Field(default=None, max_length=2000)
    addresses: str | None = Field(default=None, max_length=500)
    period_start: datetime | None = None
    period_end: datetime | None = None
    author: str = Field(default="", max_length=200)
    author_id: int | None = Field(default=None, foreign_key="practitioner.id")
    # [{"what", "status", "when", "detail"}], in the plan's order
    activities_json: str = "[]"
    goal_fhir_ids: str = "[]"  # the Goals the plan names, as a JSON list of ids


class CareGoal(FhirRow, table=True):
    """A goal the care team recorded in the EHR (FHIR Goal), beside the patient's own HealthGoal."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_caregoal_source_fhir"),
        Index("ix_caregoal_patient_status", "patient_id", "lifecycle_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    lifecycle_status: str = Field(default="active", max_length=32)
    achievement: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=1000)
    category: str | None = Field(default=None, max_length=200)
    start_date: date | None = None
    # [{"measure", "target", "due"}]
    targets_json: str = "[]"
    expressed_by: str = Field(default="", max_length=200)
    addresses: str | None = Field(default=None, max_length=500)


class Device(FhirRow, CodedValue, table=True):
    """An implant or a device the patient uses at home (FHIR Device with a patient)."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_device_source_fhir"),
        Index("ix_device_patient", "patient_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str | None = Field(default=None, max_length=32)
    udi: str | None = Field(default=None, max_length=500)
    manufacturer: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    lot_number: str | None = Field(default=None, max_length=200)
    serial_number: str | None = Field(default=None, max_length=200)
    manufactured: datetime | None = None
    expires: datetime | None = None


class ImagingStudy(FhirRow, table=True):
    """An imaging study (FHIR ImagingStudy): when, which modality, what was looked at."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_imagingstudy_source_fhir"),
        Index("ix_imagingstudy_patient_started", "patient_id", "started"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="available", max_length=32)
    started: datetime | None = None
    modality: str = Field(default="", max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    procedure: str | None = Field(default=None, max_length=500)
    body_site: str | None = Field(default=None, max_length=200)
    series_count: int | None = None
    instance_count: int | None = None
