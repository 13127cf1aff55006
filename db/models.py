"""SQLModel tables. Times are timezone-aware UTC (SQLModel's UTCDateTime); codes keep their system.

Rows that come from FHIR carry ``source`` (which EHR) and ``fhir_id`` under a unique constraint, so
an import of the same resource twice updates one row instead of adding a second.
"""

from datetime import UTC, date, datetime, time
from enum import StrEnum

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode, text
from sqlmodel import Field, Index, SQLModel, UniqueConstraint


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    PATIENT = "patient"
    PROXY = "proxy"
    FRONT_DESK = "front_desk"
    NURSE = "nurse"
    CLINICIAN = "clinician"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.ADMIN})


class FhirRow(SQLModel):
    """Columns every FHIR-sourced table shares."""

    source: str = Field(default="ehr", max_length=64)
    fhir_id: str = Field(max_length=64)
    version_id: str | None = Field(default=None, max_length=64)
    last_updated: datetime | None = None


# --- people -------------------------------------------------------------------------------


class Patient(FhirRow, table=True):
    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_patient_source_fhir"),
        Index("ix_patient_name", "family_name_lower", "given_name_lower"),
    )
    id: int | None = Field(default=None, primary_key=True)
    mrn: str | None = Field(default=None, max_length=64, index=True)
    given_name: str = Field(default="", max_length=200)
    family_name: str = Field(default="", max_length=200)
    # Lower-cased copies so name search uses an index on every database.
    given_name_lower: str = Field(default="", max_length=200)
    family_name_lower: str = Field(default="", max_length=200)
    birth_date: date | None = Field(default=None, index=True)
    sex: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=64)
    deceased: bool = False
    primary_practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or "(no name)"


class Practitioner(FhirRow, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_practitioner_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    qualification: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=64)


class User(SQLModel, table=True):
    """A portal account. Patients link to their own Patient row; staff may link a Practitioner."""

    __tablename__ = "portal_user"  # "user" is reserved in PostgreSQL
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    role: Role = Field(max_length=32)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=200)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Security state (issue 6). A login cookie or session started before this is refused, so
    # logout and password change end every copy of the session, even one copied from a browser.
    sessions_valid_after: datetime | None = None
    failed_login_count: int = 0
    locked_until: datetime | None = None
    # TOTP secret (base32); MFA counts as enrolled only once a first code confirmed it.
    mfa_secret: str | None = Field(default=None, max_length=64)
    mfa_enabled_at: datetime | None = None
    # The 30-second TOTP step of the last accepted code: a code (or an older one) works once.
    mfa_last_step: int | None = None


class ClientThrottle(SQLModel, table=True):
    """Failed sign-ins from one device (IP address), whatever account it tried: its waits grow so
    a guesser slows down without locking the owner out (portal/services/login_throttle.py)."""

    client_key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    last_failure_at: datetime
    next_attempt_at: datetime


class ProxyGrant(SQLModel, table=True):
    """A caregiver account's access to another patient's record."""

    __table_args__ = (UniqueConstraint("user_id", "patient_id", name="uq_proxy_user_patient"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    relationship: str = Field(default="caregiver", max_length=64)
    granted_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


# --- clinical record ------------------------------------------------------------------------


class Condition(FhirRow, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_condition_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
    clinical_status: str | None = Field(default=None, max_length=32)
    onset_date: date | None = None
    abatement_date: date | None = None


class MedicationRequest(FhirRow, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_medreq_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    status: str = Field(default="active", max_length=32)
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
    dosage_text: str | None = Field(default=None, max_length=1000)
    authored_on: datetime | None = None
    prescriber_id: int | None = Field(default=None, foreign_key="practitioner.id")


class AllergyIntolerance(FhirRow, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_allergy_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
    clinical_status: str | None = Field(default=None, max_length=32)
    criticality: str | None = Field(default=None, max_length=32)
    reaction: str | None = Field(default=None, max_length=500)
    recorded_date: datetime | None = None


class Immunization(FhirRow, table=True):
    __table_args__ = (UniqueConstraint("source", "fhir_id", name="uq_immunization_source_fhir"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    status: str = Field(default="completed", max_length=32)
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
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


class Observation(FhirRow, table=True):
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
    code_system: str | None = Field(default=None, max_length=200)
    code: str = Field(default="", max_length=64)
    display: str = Field(default="", max_length=500)
    value: float | None = None
    value_string: str | None = Field(default=None, max_length=1000)
    unit: str | None = Field(default=None, max_length=64)
    ref_low: float | None = None
    ref_high: float | None = None
    # A code has no length limit in FHIR (v3 ObservationInterpretation has 20-character codes).
    interpretation: str | None = None
    effective_at: datetime | None = None
    report_fhir_id: str | None = Field(default=None, max_length=64)


class DiagnosticReport(FhirRow, table=True):
    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_report_source_fhir"),
        Index("ix_report_patient_time", "patient_id", "effective_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="final", max_length=32)
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
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


# --- operations -----------------------------------------------------------------------------


class QuarantinedResource(SQLModel, table=True):
    """A FHIR resource that failed validation or mapping, kept with its reason for an admin."""

    # Looked up by (source, type, id) when a corrected version arrives and closes the entry.
    __table_args__ = (
        Index("ix_quarantinedresource_source_type_fhir", "source", "resource_type", "fhir_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(default="ehr", max_length=64)
    resource_type: str | None = Field(default=None, max_length=64, index=True)
    fhir_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=4000)
    raw_json: str
    received_at: datetime = Field(default_factory=utcnow, index=True)
    resolved_at: datetime | None = None


# --- EHR sync: runs, checkpoints, write-back outbox, scheduler job store -------------------


class SyncRun(SQLModel, table=True):
    """One run of the EHR sync: when, why, what it did per resource type, and what went wrong."""

    __table_args__ = (Index("ix_syncrun_source_started", "source", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(default="ehr", max_length=64)
    trigger: str = Field(default="schedule", max_length=32)  # schedule / manual / cli
    status: str = Field(default="running", max_length=32)  # running / succeeded / partial / failed
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    fetched: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    quarantined: int = 0
    deleted: int = 0
    retries: int = 0
    counts_json: str = "{}"  # the same counts per resource type
    errors: str | None = None


class SyncCheckpoint(SQLModel, table=True):
    """Newest meta.lastUpdated imported per type; moved only after that page's rows committed."""

    __table_args__ = (
        UniqueConstraint("source", "resource_type", name="uq_synccheckpoint_source_type"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(default="ehr", max_length=64)
    resource_type: str = Field(max_length=64)
    last_updated: datetime | None = None
    # The server's own clock (Bundle.meta.lastUpdated, $export transactionTime) when the last
    # complete pass started: everything stamped before it (less a commit window) has been read.
    server_time: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    STUCK = "stuck"  # gave up after outbox_max_attempts; an admin can requeue it
    SUPERSEDED = "superseded"  # a newer item carries the same resource's full state


class OutboxItem(SQLModel, table=True):
    """A FHIR write to send to the EHR, added in the same transaction as the change it carries.

    ``fhir_id`` is assigned here, and delivery is a PUT to it, so a repeat after a lost
    acknowledgement updates the same resource instead of creating a second.
    """

    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_resource", "resource_type", "fhir_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(default="ehr", max_length=64)
    kind: str = Field(max_length=64)  # appointment_booked / refill_approved / message / ...
    resource_type: str = Field(max_length=64)
    fhir_id: str = Field(max_length=64)
    payload: str  # the resource as JSON
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


# APScheduler's SQLAlchemyJobStore table, declared here so a migration creates it (replicas starting
# at once would race to create it) and the schema check covers it. Same columns APScheduler makes.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class AuditEvent(SQLModel, table=True):
    """Append-only record of every read and write of health data and every security event."""

    __table_args__ = (
        Index("ix_audit_patient_at", "patient_id", "at"),
        Index("ix_audit_user_at", "user_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    username: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=32)
    patient_id: int | None = Field(default=None, foreign_key="patient.id")
    category: str = Field(max_length=64)
    action: str = Field(max_length=32)
    outcome: str = Field(default="success", max_length=32)
    detail: str | None = Field(default=None, max_length=1000)
    # Hash chain: each entry's hash covers its fields and the previous entry's hash, so an edited,
    # removed or reordered entry breaks verification (portal.services.audit_chain).
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditChainHead(SQLModel, table=True):
    """The single row naming the newest audit entry: writers lock it, so the chain never forks,
    and verification compares it with the last entry, so a removed tail is detected too."""

    id: int = Field(default=1, primary_key=True)
    last_event_id: int | None = None
    last_hash: str | None = Field(default=None, max_length=64)
    # Entries up to this id were written before the chain was keyed and keep plain SHA-256
    # links; every later one is HMAC-keyed. Signed checkpoints repeat it, so moving it is
    # detected (portal.services.audit_checkpoints).
    plain_until_id: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class AuthSession(SQLModel, table=True):
    """A signed-in browser session. The cookie carries only its random id; the server decides
    whether it is still valid (idle time-out, absolute lifetime, logout, revocation)."""

    __table_args__ = (Index("ix_authsession_user_started", "user_id", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="portal_user.id")
    started_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=32)


class MfaRecoveryCode(SQLModel, table=True):
    """One-time recovery code for a lost authenticator; only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class AccountCode(SQLModel, table=True):
    """A single-use, expiring code staff give a patient: activate a new account or reset one."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    purpose: str = Field(max_length=16)  # activation / reset
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    issued_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


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


# --- patient requests and the triage inbox --------------------------------------------------
# Each request type keeps its own table (MessageThread, RefillRequest, ProfileChangeRequest, ...);
# TriageItem points at one of them by (kind, ref_id), so new request types join the same inbox
# without touching the inbox itself.


class MessageThread(SQLModel, table=True):
    """A conversation between a patient (or their proxy) and one clinic team."""

    __table_args__ = (Index("ix_messagethread_patient_last", "patient_id", "last_message_at"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    recipient: str = Field(max_length=32)  # care_team / front_desk / billing
    subject: str = Field(default="", max_length=200)
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_message_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One message in a thread. Read markers are per side, so unread counts need no join table."""

    __table_args__ = (Index("ix_message_thread_created", "thread_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="messagethread.id")
    author_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    from_staff: bool = False
    body: str
    created_at: datetime = Field(default_factory=utcnow)
    read_by_patient_at: datetime | None = None
    read_by_staff_at: datetime | None = None


class AttachmentBlob(SQLModel, table=True):
    """Attachment bytes, addressed by their SHA-256 so the same file is stored once."""

    sha256: str = Field(primary_key=True, max_length=64)
    content_type: str = Field(max_length=100)
    size: int
    data: bytes
    created_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """A file on a message: the name the patient gave it and the hash of its checked content."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(foreign_key="attachmentblob.sha256", max_length=64)


class RefillStatus(StrEnum):
    REQUESTED = "requested"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DENIED = "denied"


OPEN_REFILL_STATUSES = (RefillStatus.REQUESTED, RefillStatus.IN_REVIEW)


class RefillRequest(SQLModel, table=True):
    __table_args__ = (
        Index("ix_refill_patient_med_status", "patient_id", "medication_request_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    medication_request_id: int = Field(foreign_key="medicationrequest.id")
    pharmacy: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=2000)
    status: str = Field(default=RefillStatus.REQUESTED, max_length=32)
    decision_reason: str | None = Field(default=None, max_length=2000)
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class PatientPreferences(SQLModel, table=True):
    """Portal-owned contact details the EHR Patient row has no column for."""

    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    preferred_pharmacy: str | None = Field(default=None, max_length=200)
    communication_preference: str | None = Field(default=None, max_length=64)
    emergency_contact: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)


class ProfileChangeStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ProfileChangeRequest(SQLModel, table=True):
    """One field a patient asked to change; applied only when staff accept it."""

    __table_args__ = (Index("ix_profilechange_patient_status", "patient_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    field: str = Field(max_length=64)
    old_value: str | None = Field(default=None, max_length=500)
    new_value: str = Field(max_length=500)
    status: str = Field(default=ProfileChangeStatus.PENDING, max_length=32)
    decision_reason: str | None = Field(default=None, max_length=2000)
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class TriageStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_ON_PATIENT = "waiting_on_patient"
    CLOSED = "closed"


OPEN_TRIAGE_STATUSES = (
    TriageStatus.NEW,
    TriageStatus.IN_PROGRESS,
    TriageStatus.WAITING_ON_PATIENT,
)


class TriageItem(SQLModel, table=True):
    """One patient request in the staff inbox. ``version`` guards every staff action.

    Statuses and kinds are plain strings (not database enums) so later request types and states
    need no ALTER TYPE on PostgreSQL.
    """

    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="uq_triageitem_kind_ref"),
        Index("ix_triageitem_status_due", "status", "due_at"),
        Index("ix_triageitem_kind_status_due", "kind", "status", "due_at"),
        Index("ix_triageitem_assignee_status_due", "assignee_user_id", "status", "due_at"),
        # The dashboard counts requests created in a period.
        Index("ix_triageitem_created", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # message / refill / profile_change / (later kinds)
    ref_id: int
    patient_id: int = Field(foreign_key="patient.id", index=True)
    status: str = Field(default=TriageStatus.NEW, max_length=32)
    priority: int = 2  # 1 urgent, 2 normal, 3 low; lower sorts first
    summary: str = Field(default="", max_length=200)
    assignee_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    due_at: datetime
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    version: int = 1


class TriageEvent(SQLModel, table=True):
    """History of a triage item: who did what, when, and why."""

    __table_args__ = (
        Index("ix_triageevent_item_at", "item_id", "at"),
        # The dashboard's first-response times read the events of a period.
        Index("ix_triageevent_at", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="triageitem.id")
    at: datetime = Field(default_factory=utcnow)
    actor_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    action: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    detail: str | None = Field(default=None, max_length=2000)


class Notification(SQLModel, table=True):
    """An in-app note to a patient's record (seen by the patient and their proxies)."""

    __table_args__ = (
        Index("ix_notification_patient_read_created", "patient_id", "read_at", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    kind: str = Field(max_length=32)
    text: str = Field(max_length=500)
    link_page: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None


class ReplyTemplate(SQLModel, table=True):
    """A saved reply staff can pick in the reply box."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100, unique=True)
    body: str = Field(max_length=4000)
    active: bool = True


# --- scheduling -----------------------------------------------------------------------------
# Templates say when a practitioner works (in clinic local time); exceptions cut time out of
# them; Booking is a portal-owned visit. Synced FHIR Appointment rows stay as they are: a booking
# may later be written back to the EHR and linked by appointment_id.


class VisitMode(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class ScheduleTemplate(SQLModel, table=True):
    """One weekly block: a practitioner sees these visit types on this weekday, in these hours."""

    __table_args__ = (
        Index("ix_scheduletemplate_practitioner_weekday", "practitioner_id", "weekday"),
    )
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id")
    weekday: int  # 0 = Monday, clinic local time
    start_time: time
    end_time: time
    slot_minutes: int = 20
    visit_types: str = Field(default="follow_up", max_length=500)  # comma-separated codes
    in_person: bool = True
    video: bool = False
    active: bool = True


class ScheduleException(SQLModel, table=True):
    """Time off or a holiday. No practitioner means the whole clinic is closed."""

    __table_args__ = (Index("ix_scheduleexception_practitioner_start", "practitioner_id", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    start: datetime
    end: datetime
    reason: str = Field(default="", max_length=200)
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")


class BookingStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Booking(SQLModel, table=True):
    """A visit booked in the portal.

    The partial unique index is what makes double booking impossible: two sessions inserting the
    same practitioner and start both pass every check in Python, and the database lets one commit.
    A cancelled row drops out of the index, so its slot can be booked again.
    """

    __table_args__ = (
        Index(
            "uq_booking_active_slot",
            "practitioner_id",
            "start",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_booking_patient_start", "patient_id", "start"),
        Index("ix_booking_status_start", "status", "start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    practitioner_id: int = Field(foreign_key="practitioner.id")
    start: datetime
    end: datetime
    visit_type: str = Field(max_length=64)
    mode: str = Field(default=VisitMode.IN_PERSON, max_length=16)
    status: str = Field(default=BookingStatus.BOOKED, max_length=16)
    video_room: str | None = Field(default=None, max_length=100)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    booked_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=200)
    arrived_at: datetime | None = None
    rescheduled_from_id: int | None = Field(default=None, foreign_key="booking.id")


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"
    CANCELLED = "cancelled"


class WaitlistEntry(SQLModel, table=True):
    """A patient asking for an earlier slot than ``before`` (their booking, or any date)."""

    __table_args__ = (Index("ix_waitlistentry_status_created", "status", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    visit_type: str = Field(max_length=64)
    mode: str | None = Field(default=None, max_length=16)  # None: either
    before: datetime
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    status: str = Field(default=WaitlistStatus.WAITING, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class WaitlistOffer(SQLModel, table=True):
    """A freed slot held for one waitlisted patient until ``expires_at``; then the next one."""

    __table_args__ = (
        Index(
            "uq_waitlistoffer_open_slot",
            "practitioner_id",
            "start",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_waitlistoffer_status_expires", "status", "expires_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="waitlistentry.id", index=True)
    practitioner_id: int = Field(foreign_key="practitioner.id")
    start: datetime
    end: datetime
    visit_type: str = Field(max_length=64)
    mode: str = Field(max_length=16)
    status: str = Field(default=OfferStatus.OPEN, max_length=16)
    offered_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class CheckIn(SQLModel, table=True):
    """A patient's pre-visit check-in: what they confirmed, with answers in CheckInAnswer."""

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", unique=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    questionnaire: str = Field(max_length=64)
    contact_confirmed: bool = False
    medications_confirmed: bool = False
    allergies_confirmed: bool = False
    notes: str | None = Field(default=None, max_length=2000)
    score: int | None = None
    submitted_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    submitted_at: datetime = Field(default_factory=utcnow)


class CheckInAnswer(SQLModel, table=True):
    """One structured answer; the question text is copied so later edits never change history."""

    __table_args__ = (UniqueConstraint("checkin_id", "question_code", name="uq_checkinanswer_q"),)
    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkin.id")
    question_code: str = Field(max_length=64)
    question_text: str = Field(max_length=500)
    answer_text: str = Field(max_length=500)
    answer_value: int | None = None


class ReminderSent(SQLModel, table=True):
    """A reminder that went out. The unique key lets two job runs race and still send once."""

    __table_args__ = (
        UniqueConstraint("booking_id", "offset_hours", name="uq_remindersent_booking_offset"),
    )
    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id")
    offset_hours: int
    sent_at: datetime = Field(default_factory=utcnow)
    emailed: bool = False


class VisitRequestStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    CLOSED = "closed"


class VisitRequest(SQLModel, table=True):
    """A patient asking for a visit when no open slot suits; staff work it from the triage inbox."""

    __table_args__ = (Index("ix_visitrequest_patient_status", "patient_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    visit_type: str = Field(max_length=64)
    mode: str | None = Field(default=None, max_length=16)
    preferred_times: str = Field(default="", max_length=500)
    # Weekdays (0 = Monday, comma-separated) and parts of the day ("morning,afternoon") that
    # suit the patient; empty means any. Staff book from the request with slots filtered by them.
    preferred_days: str = Field(default="", max_length=20)
    preferred_parts: str = Field(default="", max_length=40)
    reason: str = Field(default="", max_length=2000)
    status: str = Field(default=VisitRequestStatus.OPEN, max_length=16)
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)


# --- referrals (issue 7) -------------------------------------------------------------------


class ServiceRequest(FhirRow, table=True):
    """A referral (FHIR ServiceRequest) synced from the EHR: to whom, what for, and its status."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_servicerequest_source_fhir"),
        Index("ix_servicerequest_patient_authored", "patient_id", "authored_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="active", max_length=32)
    intent: str = Field(default="order", max_length=32)
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
    specialty: str = Field(default="", max_length=200)
    performer_name: str = Field(default="", max_length=200)
    reason: str | None = Field(default=None, max_length=500)
    authored_on: datetime | None = None
    occurrence: datetime | None = None
    requester_id: int | None = Field(default=None, foreign_key="practitioner.id")


class ReferralRequestStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    APPROVED = "approved"
    DECLINED = "declined"


class ReferralRequest(SQLModel, table=True):
    """A patient asking for a referral; staff work it from the triage inbox."""

    __table_args__ = (Index("ix_referralrequest_patient_status", "patient_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    specialty: str = Field(max_length=100)
    reason: str = Field(default="", max_length=2000)
    preferred_provider: str = Field(default="", max_length=200)
    status: str = Field(default=ReferralRequestStatus.OPEN, max_length=16)
    decision_reason: str | None = Field(default=None, max_length=2000)
    decided_at: datetime | None = None
    decided_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)


# --- patient readings, goals, remote-monitoring alerts (issue 7) ---------------------------


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


# --- the whole record: places, procedures, care plans, goals, devices, imaging (issue 13) -------


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


class Procedure(FhirRow, table=True):
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
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
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


class Device(FhirRow, table=True):
    """An implant or a device the patient uses at home (FHIR Device with a patient)."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_device_source_fhir"),
        Index("ix_device_patient", "patient_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str | None = Field(default=None, max_length=32)
    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
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
