"""Signed checkpoints of the audit trail, kept outside the database.

The hash chain (``audit_chain``) shows an entry edited or removed in the middle, and with its
HMAC key out of the database nobody can re-hash the chain after an edit. What a chain cannot
show on its own is loss at the end: delete the newest entries and point the head at the last one
left, or wipe the trail and the head. So, regularly (every scheduler tick, every verification,
every start), the portal appends a checkpoint to a file outside the database: how many entries
there are, the newest one's id and hash, the time, and where the keyed part of the chain starts,
all signed with the audit key. ``verify_trail`` then checks that every checkpoint still holds:
the entry it names is there, with that hash and that many entries up to it.

The file is opened append-only (``O_APPEND``); put it on a disk the database account cannot
write, and make it append-only for the system too (``chattr +a``) where the file system allows.
With ``AUDIT_CHECKPOINT_SYSLOG`` each checkpoint also goes to syslog, a second copy elsewhere.
"""

import hashlib
import hmac
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from db import audit_guard
from db.models import AuditChainHead, AuditEvent, saved_id
from portal.config import Settings, get_settings
from portal.services import audit_chain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    at: str
    count: int
    last_id: int | None
    head: str | None
    plain_until: int

    def signed_line(self, key: bytes) -> str:
        fields = asdict(self)
        return json.dumps({**fields, "sig": _signature(fields, key)}, sort_keys=True) + "\n"


def _signature(fields: dict[str, Any], key: bytes) -> str:
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, b"audit-checkpoint|" + text.encode(), hashlib.sha256).hexdigest()


def checkpoint_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    if settings.audit_checkpoint_path is not None:
        return Path(settings.audit_checkpoint_path)
    # One file per database, so a benchmark or a second database on the same machine never
    # mixes its checkpoints into the clinic's (the name carries a digest of DATABASE_URL).
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return Path(settings.state_dir) / "audit" / f"checkpoints-{digest}.log"


def current_checkpoint(session: Session, *, now: datetime) -> Checkpoint:
    """The trail as it stands: committed entries up to the head (writers hold the head's lock
    until they commit, so no entry below it is still on its way)."""
    head = session.exec(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .execution_options(populate_existing=True)
    ).first()
    last_id = head.last_event_id if head else None
    count = 0
    if last_id is not None:
        count = session.exec(
            select(func.count()).select_from(AuditEvent).where(col(AuditEvent.id) <= last_id)
        ).one()
    return Checkpoint(
        at=now.astimezone(UTC).isoformat(timespec="seconds"),
        count=count,
        last_id=last_id,
        head=head.last_hash if head else None,
        plain_until=head.plain_until_id if head else 0,
    )


def write_checkpoint(
    session: Session, *, now: datetime, settings: Settings | None = None
) -> Checkpoint:
    """Append a signed checkpoint of the trail as it stands now (and to syslog if asked)."""
    settings = settings or get_settings()
    checkpoint = current_checkpoint(session, now=now)
    line = checkpoint.signed_line(audit_chain.audit_key())
    path = checkpoint_path(settings)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if settings.audit_checkpoint_syslog:
        import syslog

        syslog.openlog("clinic-portal", 0, syslog.LOG_AUTH)
        syslog.syslog(syslog.LOG_NOTICE, f"audit checkpoint {line.strip()}")
    return checkpoint


def read_checkpoints(path: Path, key: bytes) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints whose signatures hold, and a problem for each line that does not."""
    if not path.exists():
        return [], []
    checkpoints, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            signature = fields.pop("sig")
            checkpoint = Checkpoint(**fields)
        except (ValueError, TypeError, KeyError):
            problems.append(f"checkpoint file line {number} is not a checkpoint")
            continue
        if not hmac.compare_digest(str(signature), _signature(asdict(checkpoint), key)):
            problems.append(f"checkpoint file line {number} has a wrong signature (edited)")
            continue
        checkpoints.append(checkpoint)
    return checkpoints, problems


@dataclass
class TrailReport:
    """What ``verify_trail`` found: ok only if the chain, the checkpoints and the guard hold."""

    checked: int = 0
    checkpoints: int = 0
    guard_installed: bool = True
    problems: list[str] = field(default_factory=list)
    checkpoint_written: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_trail(
    session: Session,
    *,
    now: datetime,
    settings: Settings | None = None,
    write_checkpoint_if_intact: bool = True,
) -> TrailReport:
    """Check the chain, every signed checkpoint and the append-only guard; anchor a new
    checkpoint when all is well (never over a trail that failed)."""
    settings = settings or get_settings()
    key = audit_chain.audit_key()
    report = TrailReport()
    report.guard_installed = audit_guard.installed(session.connection())
    if not report.guard_installed:
        report.problems.append(
            "the database's append-only guard on the audit trail is missing (triggers dropped)"
        )
    checkpoints, problems = read_checkpoints(checkpoint_path(settings), key)
    report.checkpoints = len(checkpoints)
    report.problems += problems
    by_id: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        if checkpoint.last_id is not None:
            by_id.setdefault(checkpoint.last_id, []).append(checkpoint)
    seen: set[int] = set()

    def compare(event: AuditEvent, position: int) -> None:
        for checkpoint in by_id.get(saved_id(event), ()):
            seen.add(saved_id(event))
            if checkpoint.head != event.hash:
                report.problems.append(
                    f"entry {event.id} is not the one checkpointed at {checkpoint.at} "
                    "(rewritten and re-hashed)"
                )
            elif checkpoint.count != position:
                report.problems.append(
                    f"checkpoint at {checkpoint.at} counted {checkpoint.count} entries up to "
                    f"entry {event.id}, now there are {position} (entries removed or added)"
                )

    result = audit_chain.verify(session, on_entry=compare, key=key)
    report.checked = result.checked
    if not result.ok:
        report.problems.append(f"entry {result.first_bad_id}: {result.problem}")
    else:
        for last_id, group in by_id.items():
            if last_id not in seen:
                newest = max(group, key=lambda c: c.count)
                report.problems.append(
                    f"entry {last_id}, the newest of {newest.count} at the checkpoint of "
                    f"{newest.at}, is gone: entries were removed (the newest cut off and the "
                    "head moved back, or the whole trail wiped)"
                )
    head = session.get(AuditChainHead, 1)
    plain_until = head.plain_until_id if head else 0
    if any(c.plain_until != plain_until for c in checkpoints):
        report.problems.append(
            "the point where the keyed chain starts was moved since the last checkpoint"
        )
    if report.ok and write_checkpoint_if_intact:
        report.checkpoint_written = write_checkpoint(session, now=now, settings=settings)
    return report


def anchor(session: Session, *, now: datetime, settings: Settings | None = None) -> Checkpoint:
    """The scheduler's regular checkpoint; also raises the alarm when the guard is gone."""
    if not audit_guard.installed(session.connection()):
        alarm_guard_missing(session, now=now)
    return write_checkpoint(session, now=now, settings=settings)


GUARD_MISSING = (
    "The audit trail's append-only guard (database triggers) is missing: someone with the "
    "database owner's rights removed it. Find out who, then run "
    "'python -m portal.audit_verify --reinstall-guard'."
)


def alarm_guard_missing(session: Session, *, now: datetime) -> None:
    """Loudly: a critical log line and a security entry in the trail itself."""
    from portal.services import audit

    log.critical(GUARD_MISSING)
    audit.record(
        session=session,
        actor=None,
        category="security",
        action="audit guard missing",
        outcome=audit.Outcome.FAILURE,
        detail="append-only triggers on auditevent are missing",
        now=now,
    )
    session.commit()
