"""Referrals: synced FHIR ServiceRequests and patients' referral requests."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from db.models.base import CodedValue, FhirRow
from portal.clock import utcnow


class ServiceRequest(FhirRow, CodedValue, table=True):
    """A referral (FHIR ServiceRequest) synced from the EHR: to whom, what for, and its status."""

    __table_args__ = (
        UniqueConstraint("source", "fhir_id", name="uq_servicerequest_source_fhir"),
        Index("ix_servicerequest_patient_authored", "patient_id", "authored_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    status: str = Field(default="active", max_length=32)
    intent: str = Field(default="order", max_length=32)
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
