"""Home readings, goals, per-patient thresholds and remote-monitoring alert episodes."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from portal.clock import utcnow


class ReadingSource(StrEnum):
    MANUAL = "manual"
    APPLE_HEALTH = "apple_health"
    CSV = "csv"
    FHIR = "fhir"


class PatientReading(SQLModel, table=True):
    """A measurement the patient took at home (typed in or imported from a device).

    ``value`` (and ``value2``, the diastolic of a blood pressure) is in the measure's canonical
    unit; what the patient entered is kept beside it. ``dedup_key`` is a hash of the measure, time
    and canonical value, unique per patient, so importing the same file twice adds nothing.
    """

    __table_args__ = (
        UniqueConstraint("patient_id", "dedup_key", name="uq_patientreading_patient_dedup"),
        Index("ix_patientreading_patient_measure_time", "patient_id", "measure", "taken_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    measure: str = Field(max_length=32)  # blood_pressure / weight / glucose / heart_rate / ...
    value: float
    value2: float | None = None
    unit: str = Field(max_length=16)
    entered_value: float
    entered_value2: float | None = None
    entered_unit: str = Field(max_length=64)
    taken_at: datetime
    source: str = Field(default=ReadingSource.MANUAL, max_length=16)
    dedup_key: str = Field(max_length=64)
    entered_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class GoalStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class HealthGoal(SQLModel, table=True):
    """A target the patient works towards (weight, steps per day, BP under, A1c under, ...)."""

    __table_args__ = (Index("ix_healthgoal_patient_status", "patient_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    kind: str = Field(max_length=32)
    target: float
    target2: float | None = None  # diastolic target of a blood-pressure goal
    unit: str = Field(max_length=16)
    note: str = Field(default="", max_length=500)
    status: str = Field(default=GoalStatus.ACTIVE, max_length=16)
    set_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ReadingThreshold(SQLModel, table=True):
    """A clinician's per-patient override of a measure's alert thresholds (canonical units).

    A missing bound means no alert on that side; defaults live in code (services/readings).
    """

    __table_args__ = (
        UniqueConstraint("patient_id", "measure", name="uq_readingthreshold_patient_measure"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    measure: str = Field(max_length=32)
    low: float | None = None
    high: float | None = None
    low2: float | None = None
    high2: float | None = None
    set_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ReadingAlertEpisode(SQLModel, table=True):
    """A run of out-of-range readings of one measure; it has one triage item, however many
    readings it holds. The partial unique index allows one open episode per patient and measure,
    so two imports racing still open one."""

    __table_args__ = (
        Index(
            "uq_readingalertepisode_open",
            "patient_id",
            "measure",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_readingalertepisode_patient_opened", "patient_id", "opened_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    measure: str = Field(max_length=32)
    opened_at: datetime
    first_reading_id: int = Field(foreign_key="patientreading.id")
    last_out_reading_id: int = Field(foreign_key="patientreading.id")
    last_out_at: datetime
    out_count: int = 1
    closed_at: datetime | None = None
    closed_reason: str | None = Field(default=None, max_length=32)  # back_in_range / resolved
