"""The patient's record as the portal shows it: the home overview and the health summary."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.models import (
    AllergyIntolerance,
    Appointment,
    Condition,
    Document,
    Encounter,
    Immunization,
    Location,
    MedicationRequest,
    Observation,
    ObservationCategory,
    Organization,
    Patient,
    Practitioner,
    User,
    saved_id,
)
from portal.services import access
from portal.services.audited_reads import VIEWED_HOME, VIEWED_SUMMARY, log_read
from portal.services.results import HIDDEN_STATUSES, ResultRow, to_result_row
from portal.services.rows import MISSING_PATIENT, get_or_not_found
from portal.services.withdrawn import WITHDRAWN, not_withdrawn

# How far back a result still counts as "new" on the home page.
NEW_RESULTS_DAYS = 30
UPCOMING_STATUSES = ("booked", "pending")
ACTIVE_PROBLEM_STATUSES = ("active", "recurrence", "relapse")
_HIDDEN_VISITS = (WITHDRAWN, "cancelled")


@dataclass(frozen=True)
class UpcomingVisit:
    appointment_id: int
    start: datetime
    end: datetime | None
    status: str
    service_type: str
    description: str
    practitioner_name: str


@dataclass(frozen=True)
class Medication:
    medication_id: int
    name: str
    dosage: str
    status: str
    authored_on: datetime | None
    prescriber_name: str
    code_system: str = ""  # RxNorm codes link to patient education
    code: str = ""

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class HomeOverview:
    patient_id: int
    patient_name: str
    upcoming_visits: list[UpcomingVisit]  # soonest first
    new_results: list[ResultRow]  # laboratory results of the last NEW_RESULTS_DAYS, newest first
    active_medications: list[Medication]

    @property
    def abnormal_result_count(self) -> int:
        return sum(1 for r in self.new_results if r.abnormal)


@dataclass(frozen=True)
class Demographics:
    patient_id: int
    name: str
    birth_date: date | None
    sex: str
    mrn: str
    phone: str
    email: str
    address: str
    language: str
    deceased: bool
    primary_practitioner: str


@dataclass(frozen=True)
class Problem:
    condition_id: int
    name: str
    code: str
    status: str
    onset_date: date | None
    abatement_date: date | None
    code_system: str = ""  # SNOMED / ICD-10 codes link to patient education

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_PROBLEM_STATUSES


@dataclass(frozen=True)
class Allergy:
    allergy_id: int
    name: str
    status: str
    criticality: str
    reaction: str
    recorded_date: datetime | None


@dataclass(frozen=True)
class ImmunizationRecord:
    immunization_id: int
    name: str
    status: str
    occurrence: datetime | None


@dataclass(frozen=True)
class PastVisit:
    encounter_id: int
    start: datetime | None
    end: datetime | None
    visit_type: str
    reason: str
    status: str
    practitioner_name: str
    place: str = ""  # the EHR's Location, else its Organization (serviceProvider)


@dataclass(frozen=True)
class DocumentInfo:
    document_id: int
    title: str
    document_type: str
    description: str
    date: datetime | None
    content_type: str


@dataclass(frozen=True)
class HealthSummary:
    demographics: Demographics
    problems: list[Problem]  # active first, then most recent onset
    active_medications: list[Medication]
    past_medications: list[Medication]
    allergies: list[Allergy]
    immunizations: list[ImmunizationRecord]  # newest first
    visits: list[PastVisit]  # newest first
    documents: list[DocumentInfo]  # newest first


def _practitioner_name(practitioner_id: int | None, *, session: Session) -> str:
    if practitioner_id is None:
        return ""
    practitioner = session.get(Practitioner, practitioner_id)
    return practitioner.name if practitioner else ""


def _upcoming_visits(patient_id: int, *, session: Session, now: datetime) -> list[UpcomingVisit]:
    rows = session.exec(
        select(Appointment, Practitioner.name)
        .outerjoin(Practitioner, col(Appointment.practitioner_id) == Practitioner.id)
        .where(
            Appointment.patient_id == patient_id,
            col(Appointment.start) >= now,
            col(Appointment.status).in_(UPCOMING_STATUSES),
        )
        .order_by(col(Appointment.start), col(Appointment.id))
    ).all()
    return [
        UpcomingVisit(
            appointment_id=saved_id(a),
            start=a.start,
            end=a.end,
            status=a.status,
            service_type=a.service_type,
            description=a.description or "",
            practitioner_name=name or "",
        )
        for a, name in rows
        if a.start is not None  # always: start >= now leaves out those without one
    ]


def _new_results(patient_id: int, *, session: Session, now: datetime) -> list[ResultRow]:
    since = now - timedelta(days=NEW_RESULTS_DAYS)
    observations = session.exec(
        select(Observation)
        .where(
            Observation.patient_id == patient_id,
            Observation.category == ObservationCategory.LABORATORY.value,
            col(Observation.effective_at) >= since,
            col(Observation.effective_at) <= now,
            col(Observation.status).not_in(HIDDEN_STATUSES),
        )
        .order_by(col(Observation.effective_at).desc(), col(Observation.id).desc())
    ).all()
    return [to_result_row(o) for o in observations]


def _medications(
    patient_id: int, *, session: Session, only: ColumnElement[bool] | None = None
) -> list[Medication]:
    query = (
        select(MedicationRequest, Practitioner.name)
        .outerjoin(Practitioner, col(MedicationRequest.prescriber_id) == Practitioner.id)
        .where(MedicationRequest.patient_id == patient_id, MedicationRequest.status != WITHDRAWN)
        .order_by(
            col(MedicationRequest.authored_on).desc().nulls_last(), col(MedicationRequest.id).desc()
        )
    )
    if only is not None:
        query = query.where(only)
    return [
        Medication(
            medication_id=saved_id(m),
            name=m.display or m.code or "(unnamed medication)",
            dosage=m.dosage_text or "",
            status=m.status,
            authored_on=m.authored_on,
            prescriber_name=name or "",
            code_system=m.code_system or "",
            code=m.code or "",
        )
        for m, name in session.exec(query).all()
    ]


def home_overview(user: User, patient_id: int, *, session: Session, now: datetime) -> HomeOverview:
    """What needs attention: upcoming visits, new lab results (flagged), active medications."""
    access.require_patient_access(user, patient_id, session=session, category=VIEWED_HOME, now=now)
    patient = get_or_not_found(session, Patient, patient_id, MISSING_PATIENT)
    overview = HomeOverview(
        patient_id=patient_id,
        patient_name=patient.display_name,
        upcoming_visits=_upcoming_visits(patient_id, session=session, now=now),
        new_results=_new_results(patient_id, session=session, now=now),
        active_medications=_medications(
            patient_id, session=session, only=col(MedicationRequest.status) == "active"
        ),
    )
    log_read(user, patient_id, session=session, category=VIEWED_HOME, now=now)
    return overview


def _demographics(patient: Patient, *, session: Session) -> Demographics:
    return Demographics(
        patient_id=saved_id(patient),
        name=patient.display_name,
        birth_date=patient.birth_date,
        sex=patient.sex or "",
        mrn=patient.mrn or "",
        phone=patient.phone or "",
        email=patient.email or "",
        address=patient.address or "",
        language=patient.language or "",
        deceased=patient.deceased,
        primary_practitioner=_practitioner_name(patient.primary_practitioner_id, session=session),
    )


def _problems(patient_id: int, *, session: Session) -> list[Problem]:
    conditions = session.exec(
        select(Condition).where(
            Condition.patient_id == patient_id,
            not_withdrawn(Condition.clinical_status),
        )
    ).all()
    problems = [
        Problem(
            condition_id=saved_id(c),
            name=c.display or c.code or "(unnamed problem)",
            code=c.code or "",
            status=c.clinical_status or "",
            onset_date=c.onset_date,
            abatement_date=c.abatement_date,
            code_system=c.code_system or "",
        )
        for c in conditions
    ]
    # Active first; within each group the most recent onset first, undated last, then by name.
    problems.sort(key=lambda p: (p.name.lower(), p.condition_id))
    problems.sort(key=lambda p: p.onset_date or date.min, reverse=True)
    problems.sort(key=lambda p: not p.active)
    return problems


def _allergies(patient_id: int, *, session: Session) -> list[Allergy]:
    rows = session.exec(
        select(AllergyIntolerance)
        .where(
            AllergyIntolerance.patient_id == patient_id,
            not_withdrawn(AllergyIntolerance.clinical_status),
        )
        .order_by(AllergyIntolerance.display, col(AllergyIntolerance.id))
    ).all()
    return [
        Allergy(
            allergy_id=saved_id(a),
            name=a.display or a.code or "(unnamed allergy)",
            status=a.clinical_status or "",
            criticality=a.criticality or "",
            reaction=a.reaction or "",
            recorded_date=a.recorded_date,
        )
        for a in rows
    ]


def _immunizations(patient_id: int, *, session: Session) -> list[ImmunizationRecord]:
    rows = session.exec(
        select(Immunization)
        .where(Immunization.patient_id == patient_id, Immunization.status != WITHDRAWN)
        .order_by(col(Immunization.occurrence).desc().nulls_last(), col(Immunization.id).desc())
    ).all()
    return [
        ImmunizationRecord(
            immunization_id=saved_id(i),
            name=i.display or i.code or "(unnamed vaccine)",
            status=i.status,
            occurrence=i.occurrence,
        )
        for i in rows
    ]


def _visits(patient_id: int, *, session: Session) -> list[PastVisit]:
    rows = session.exec(
        select(Encounter, Practitioner.name, Location.name, Organization.name)
        .outerjoin(Practitioner, col(Encounter.practitioner_id) == Practitioner.id)
        .outerjoin(Location, col(Encounter.location_id) == Location.id)
        .outerjoin(Organization, col(Encounter.organization_id) == Organization.id)
        .where(Encounter.patient_id == patient_id, col(Encounter.status).not_in(_HIDDEN_VISITS))
        .order_by(col(Encounter.start).desc().nulls_last(), col(Encounter.id).desc())
    ).all()
    return [
        PastVisit(
            encounter_id=saved_id(e),
            start=e.start,
            end=e.end,
            visit_type=e.type_display or e.type_code or e.class_code or "Visit",
            reason=e.reason or "",
            status=e.status,
            practitioner_name=name or "",
            place=location or organization or "",
        )
        for e, name, location, organization in rows
    ]


def _documents(patient_id: int, *, session: Session) -> list[DocumentInfo]:
    # Only the metadata columns: the inline text can be large and the list never shows it. Six
    # columns: more than sqlmodel's select() is typed for, so SQLAlchemy's (the same SQL).
    rows = session.execute(
        sa_select(
            col(Document.id),
            col(Document.title),
            col(Document.type_display),
            col(Document.description),
            col(Document.date),
            col(Document.content_type),
        )
        .where(col(Document.patient_id) == patient_id, col(Document.status) != WITHDRAWN)
        .order_by(col(Document.date).desc().nulls_last(), col(Document.id).desc())
    ).all()
    return [
        DocumentInfo(
            document_id=doc_id,
            title=title or type_display or "Document",
            document_type=type_display or "",
            description=description or "",
            date=doc_date,
            content_type=content_type or "",
        )
        for doc_id, title, type_display, description, doc_date, content_type in rows
    ]


def health_summary(
    user: User, patient_id: int, *, session: Session, now: datetime | None = None
) -> HealthSummary:
    """Demographics, problems, medications, allergies, immunizations, visits and documents."""
    access.require_patient_access(
        user, patient_id, session=session, category=VIEWED_SUMMARY, now=now
    )
    patient = get_or_not_found(session, Patient, patient_id, MISSING_PATIENT)
    medications = _medications(patient_id, session=session)
    summary = HealthSummary(
        demographics=_demographics(patient, session=session),
        problems=_problems(patient_id, session=session),
        active_medications=[m for m in medications if m.active],
        past_medications=[m for m in medications if not m.active],
        allergies=_allergies(patient_id, session=session),
        immunizations=_immunizations(patient_id, session=session),
        visits=_visits(patient_id, session=session),
        documents=_documents(patient_id, session=session),
    )
    log_read(user, patient_id, session=session, category=VIEWED_SUMMARY, now=now)
    return summary
