"""Accounts and the people they stand for: patients, practitioners, portal users, proxies."""

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from db.models.base import FhirRow
from portal.clock import utcnow


class Role(StrEnum):
    PATIENT = "patient"
    PROXY = "proxy"
    FRONT_DESK = "front_desk"
    NURSE = "nurse"
    CLINICIAN = "clinician"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.ADMIN})


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
