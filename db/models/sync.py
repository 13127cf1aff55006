"""EHR sync bookkeeping: quarantine, runs, checkpoints, the write-back outbox, the job store."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from portal.clock import utcnow


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
