"""The rows every export reads: one query per record type, filtered in SQL by the date range."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true
from sqlmodel import Session, col, select

from db.models import (
    AllergyIntolerance,
    Appointment,
    Condition,
    DiagnosticReport,
    Document,
    Encounter,
    Immunization,
    MedicationRequest,
    Observation,
    Patient,
    Practitioner,
    ServiceRequest,
)
from portal.config import get_settings
from portal.errors import InvalidInput
from portal.services.withdrawn import not_withdrawn
from portal.timefmt import format_date


@dataclass(frozen=True)
class DateRange:
    """Inclusive clinic-local dates; None on a side means open-ended."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise InvalidInput("The start date must be on or before the end date.")

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        tz = get_settings().tz
        low = (
            datetime.combine(self.start, time.min, tzinfo=tz).astimezone(UTC)
            if self.start
            else None
        )
        high = (
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
            if self.end
            else None
        )
        return low, high

    def label(self) -> str:
        if not (self.start or self.end):
            return "all dates"
        return f"{format_date(self.start) or 'the beginning'} to {format_date(self.end) or 'today'}"


@dataclass
class RecordRows:
    """Everything exported, read once."""

    patient: Patient
    practitioners: dict[int, str] = field(default_factory=dict)
    conditions: list[Condition] = field(default_factory=list)
    medications: list[MedicationRequest] = field(default_factory=list)
    allergies: list[AllergyIntolerance] = field(default_factory=list)
    immunizations: list[Immunization] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    reports: list[DiagnosticReport] = field(default_factory=list)
    encounters: list[Encounter] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    referrals: list[ServiceRequest] = field(default_factory=list)


def _in_range(
    column: Any, low: datetime | date | None, high: datetime | date | None
) -> ColumnElement[bool]:
    """Rows dated inside the range; undated rows are kept (they cannot be placed outside it)."""
    bounds: list[ColumnElement[bool]] = []
    if low is not None:
        bounds.append(column >= low)
    if high is not None:
        bounds.append(column < high)
    if not bounds:
        return true()
    return or_(column.is_(None), and_(*bounds))


def _read_rows(patient: Patient, period: DateRange, *, session: Session) -> RecordRows:
    low, high = period.bounds()
    low_day = period.start
    high_day = period.end + timedelta(days=1) if period.end else None
    pid = patient.id

    # Any: one helper reads nine tables; each call site assigns to a typed RecordRows field.
    def rows(
        model: Any, dated: Any, *, day: bool = False, status: Any = None, order: Any = None
    ) -> list[Any]:
        query = select(model).where(model.patient_id == pid)
        query = query.where(_in_range(dated, low_day if day else low, high_day if day else high))
        if status is not None:
            query = query.where(not_withdrawn(status))
        return list(session.exec(query.order_by(order if order is not None else model.id)).all())

    return RecordRows(
        patient=patient,
        practitioners={  # ids read from the table are never None
            pid: name
            for pid, name in session.exec(select(col(Practitioner.id), Practitioner.name)).all()
            if pid is not None
        },
        conditions=rows(
            Condition, Condition.onset_date, day=True, status=Condition.clinical_status
        ),
        medications=rows(
            MedicationRequest, MedicationRequest.authored_on, status=MedicationRequest.status
        ),
        allergies=rows(
            AllergyIntolerance,
            AllergyIntolerance.recorded_date,
            status=AllergyIntolerance.clinical_status,
        ),
        immunizations=rows(Immunization, Immunization.occurrence, status=Immunization.status),
        observations=rows(
            Observation,
            Observation.effective_at,
            status=Observation.status,
            order=Observation.effective_at,
        ),
        reports=rows(
            DiagnosticReport, DiagnosticReport.effective_at, status=DiagnosticReport.status
        ),
        encounters=rows(Encounter, Encounter.start, status=Encounter.status, order=Encounter.start),
        appointments=rows(Appointment, Appointment.start, status=Appointment.status),
        documents=rows(Document, Document.date, status=Document.status),
        referrals=rows(ServiceRequest, ServiceRequest.authored_on, status=ServiceRequest.status),
    )
