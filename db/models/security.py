"""The audit trail and sign-in security: audit chain, sessions, MFA recovery, account codes."""

from datetime import datetime

from sqlmodel import Field, Index, SQLModel

from portal.clock import utcnow


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
