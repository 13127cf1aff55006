"""Factory functions for the clinical record (visits, problems, medications, ...) used by the
records, results and lookup tests. Each adds one row with sensible defaults and returns it."""

import itertools
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlmodel import Session, SQLModel

from db.models import (
    AllergyIntolerance,
    Appointment,
    Condition,
    Document,
    Encounter,
    Immunization,
    MedicationRequest,
    Observation,
    ObservationCategory,
    Patient,
)
from tests.factories import create_observation

_counter = itertools.count(1)
T = TypeVar("T", bound=SQLModel)


def _save(session: Session, row: T) -> T:
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def create_appointment(session: Session, patient: Patient, **fields) -> Appointment:
    n = next(_counter)
    return _save(
        session,
        Appointment(
            fhir_id=fields.pop("fhir_id", f"appt-{n}"),
            patient_id=patient.id,
            service_type=fields.pop("service_type", "Follow-up visit"),
            start=fields.pop("start", datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
            **fields,
        ),
    )


def create_encounter(session: Session, patient: Patient, **fields) -> Encounter:
    n = next(_counter)
    return _save(
        session,
        Encounter(
            fhir_id=fields.pop("fhir_id", f"enc-{n}"),
            patient_id=patient.id,
            type_display=fields.pop("type_display", "Office visit"),
            start=fields.pop("start", datetime(2026, 1, 10, 14, 0, tzinfo=UTC)),
            **fields,
        ),
    )


def create_condition(session: Session, patient: Patient, **fields) -> Condition:
    n = next(_counter)
    return _save(
        session,
        Condition(
            fhir_id=fields.pop("fhir_id", f"cond-{n}"),
            patient_id=patient.id,
            code_system=fields.pop("code_system", "http://snomed.info/sct"),
            code=fields.pop("code", "44054006"),
            display=fields.pop("display", "Type 2 diabetes mellitus"),
            clinical_status=fields.pop("clinical_status", "active"),
            onset_date=fields.pop("onset_date", date(2020, 5, 1)),
            **fields,
        ),
    )


def create_medication(session: Session, patient: Patient, **fields) -> MedicationRequest:
    n = next(_counter)
    return _save(
        session,
        MedicationRequest(
            fhir_id=fields.pop("fhir_id", f"med-{n}"),
            patient_id=patient.id,
            code_system=fields.pop("code_system", "http://www.nlm.nih.gov/research/umls/rxnorm"),
            code=fields.pop("code", "860975"),
            display=fields.pop("display", "Metformin 500 MG Oral Tablet"),
            dosage_text=fields.pop("dosage_text", "1 tablet twice daily"),
            authored_on=fields.pop("authored_on", datetime(2025, 6, 1, tzinfo=UTC)),
            **fields,
        ),
    )


def create_allergy(session: Session, patient: Patient, **fields) -> AllergyIntolerance:
    n = next(_counter)
    return _save(
        session,
        AllergyIntolerance(
            fhir_id=fields.pop("fhir_id", f"allergy-{n}"),
            patient_id=patient.id,
            display=fields.pop("display", "Penicillin"),
            clinical_status=fields.pop("clinical_status", "active"),
            criticality=fields.pop("criticality", "high"),
            reaction=fields.pop("reaction", "Hives"),
            **fields,
        ),
    )


def create_immunization(session: Session, patient: Patient, **fields) -> Immunization:
    n = next(_counter)
    return _save(
        session,
        Immunization(
            fhir_id=fields.pop("fhir_id", f"imm-{n}"),
            patient_id=patient.id,
            code_system=fields.pop("code_system", "http://hl7.org/fhir/sid/cvx"),
            code=fields.pop("code", "140"),
            display=fields.pop("display", "Influenza, seasonal"),
            occurrence=fields.pop("occurrence", datetime(2025, 10, 1, 15, 0, tzinfo=UTC)),
            **fields,
        ),
    )


def create_document(session: Session, patient: Patient, **fields) -> Document:
    n = next(_counter)
    return _save(
        session,
        Document(
            fhir_id=fields.pop("fhir_id", f"doc-{n}"),
            patient_id=patient.id,
            type_display=fields.pop("type_display", "Visit note"),
            title=fields.pop("title", "After-visit summary"),
            date=fields.pop("date", datetime(2026, 1, 10, 16, 0, tzinfo=UTC)),
            content_type=fields.pop("content_type", "text/plain"),
            text=fields.pop("text", "Keep taking your medicines."),
            **fields,
        ),
    )


def create_vital(session: Session, patient: Patient, **fields) -> Observation:
    """A vital sign (default: a heart rate)."""
    fields.setdefault("category", ObservationCategory.VITAL_SIGNS.value)
    fields.setdefault("code", "8867-4")
    fields.setdefault("display", "Heart rate")
    fields.setdefault("unit", "/min")
    fields.setdefault("value", 72.0)
    fields.setdefault("ref_low", 60.0)
    fields.setdefault("ref_high", 100.0)
    return create_observation(session, patient, **fields)


def create_blood_pressure(
    session: Session, patient: Patient, systolic: float, diastolic: float, at: datetime
) -> tuple[Observation, Observation]:
    """One blood pressure, stored the importer's way: two rows sharing one fhir_id."""
    fhir_id = f"bp-{next(_counter)}"
    common = {"fhir_id": fhir_id, "unit": "mm[Hg]", "effective_at": at}
    return (
        create_vital(
            session,
            patient,
            code="8480-6",
            display="Systolic blood pressure",
            value=systolic,
            ref_low=90.0,
            ref_high=120.0,
            **common,
        ),
        create_vital(
            session,
            patient,
            code="8462-4",
            display="Diastolic blood pressure",
            value=diastolic,
            ref_low=60.0,
            ref_high=80.0,
            **common,
        ),
    )
