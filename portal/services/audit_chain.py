"""Tamper evidence for the audit trail: every entry's hash covers its fields and the previous hash.

The single ``AuditChainHead`` row is locked by each writer (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite the first write of a transaction takes the database write lock), so two
concurrent writers can never both chain onto the same predecessor. The head also names the newest
entry, so deleting entries from the end is detected as well as editing or removing one inside.

The links are HMAC-SHA256 under the audit key (``audit_key``), which lives with the other
secrets in the state folder, never in the database: someone who can write to the database but
not read the key cannot re-hash the chain after editing it. Entries written before the chain was
keyed (migration 0013) keep plain SHA-256 links up to ``AuditChainHead.plain_until_id``. What the
head alone cannot show (the newest entries cut off with the head moved back, or the whole trail
wiped) the signed checkpoints outside the database show: ``audit_checkpoints``.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from db.models import AuditChainHead, AuditEvent, saved_id
from portal.config import get_settings
from portal.secrets_store import get_or_create_secret

AUDIT_KEY_SECRET = "audit_key"  # noqa: S105 (the file name in the secrets folder)

HASHED_FIELDS = (
    "at",
    "user_id",
    "username",
    "role",
    "patient_id",
    "category",
    "action",
    "outcome",
    "detail",
)


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@lru_cache
def _key(state_dir: Path, override: str | None) -> bytes:
    value = override or get_or_create_secret(AUDIT_KEY_SECRET, state_dir=state_dir)
    return value.encode()


def audit_key() -> bytes:
    """The HMAC key of the chain and the checkpoints: AUDIT_KEY, else generated into the state
    folder's secrets on first use (back it up with them: without it nothing verifies)."""
    settings = get_settings()
    return _key(Path(settings.state_dir), settings.audit_key)


def entry_hash(prev_hash: str | None, fields: dict[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA256 under ``key`` (plain SHA-256 for the entries from before the chain was keyed)
    over the previous hash and the entry's fields, in one fixed JSON form.

    Changing this function invalidates every existing chain: treat it as frozen.
    """
    payload: dict[str, Any] = {name: fields.get(name) for name in HASHED_FIELDS}
    payload["at"] = _canonical_time(payload["at"])
    payload["prev_hash"] = prev_hash
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if key is None:
        return hashlib.sha256(text.encode()).hexdigest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def lock_head(session: Session) -> AuditChainHead:
    """Lock and return the chain head for this transaction, creating it in an empty database."""
    if session.get_bind().dialect.name == "sqlite":
        # A no-op write makes SQLite take its write lock now, before we read the head.
        session.execute(update(AuditChainHead).where(col(AuditChainHead.id) == 1).values(id=1))
    # populate_existing: a head object cached in this session (expire_on_commit=False) is stale.
    query = (
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.exec(query).first()
    if head is None:
        # Only a freshly emptied database (tests) lacks the row the migration seeds; writers may
        # race to create it, so insert-if-absent and then lock whichever row won.
        insert = (
            postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        session.execute(insert(AuditChainHead).values(id=1).on_conflict_do_nothing())
        head = session.exec(query).one()
    return head


def append(session: Session, event: AuditEvent) -> AuditEvent:
    """Chain ``event`` onto the newest entry and advance the head (caller commits)."""
    return append_many(session, [event])[0]


def append_many(session: Session, events: list[AuditEvent]) -> list[AuditEvent]:
    """Chain entries in order under one lock of the head (a list view writes one per patient
    listed); each is flushed on its own, so ids follow the chain's order."""
    head = lock_head(session)
    key = audit_key()
    for event in events:
        # Every new entry is keyed: ids only grow, so it comes after head.plain_until_id.
        event.prev_hash = head.last_hash
        event.hash = entry_hash(head.last_hash, event.model_dump(), key)
        session.add(event)
        session.flush()  # assigns the id the head points at
        head.last_event_id = event.id
        head.last_hash = event.hash
    session.add(head)
    return events


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify(
    session: Session,
    *,
    batch_size: int = 5000,
    on_entry: Callable[[AuditEvent, int], None] | None = None,
    key: bytes | None = None,
) -> VerifyResult:
    """Walk the whole chain in id order and report the first entry that does not fit.

    ``on_entry(event, position)`` sees each verified entry (the checkpoints use it to compare
    their entry counts and hashes in the same single pass).
    """
    key = key or audit_key()
    head = session.get(AuditChainHead, 1)
    plain_until = head.plain_until_id if head else 0
    prev: str | None = None
    last_id: int | None = None
    checked = 0
    while True:
        query = select(AuditEvent).order_by(col(AuditEvent.id)).limit(batch_size)
        if last_id is not None:
            query = query.where(col(AuditEvent.id) > last_id)
        rows = session.exec(query).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != prev:
                return VerifyResult(False, checked, event.id, "does not link to the entry before")
            expected = entry_hash(
                prev, event.model_dump(), None if saved_id(event) <= plain_until else key
            )
            if not hmac.compare_digest(event.hash or "", expected):
                return VerifyResult(False, checked, event.id, "content changed since written")
            prev, last_id = event.hash, event.id
            checked += 1
            if on_entry is not None:
                on_entry(event, checked)
    head_hash = head.last_hash if head else None
    head_id = head.last_event_id if head else None
    if (head_hash, head_id) != (prev, last_id):
        return VerifyResult(False, checked, head_id, "newest entries are missing")
    return VerifyResult(True, checked)
