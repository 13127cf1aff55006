"""Backup and restore of a whole portal: the database and the secrets it needs (``cli backup``).

A backup is one file (see ``archive``): a consistent copy of the database made while the portal
runs (``sqlite_copy``, ``postgres_copy``), the state folder's secrets (the cookie key, the demo
password), and a manifest with the schema revision, the rows per table and a SHA-256 per file.

A restore checks everything before it changes anything: the file is whole and unaltered, it was
made from the same kind of database as DATABASE_URL, its schema is one this code knows (not
newer), and the target holds no data (unless ``force``). Afterwards it compares the rows per table
with the manifest, brings the schema up to date and verifies the audit trail's hash chain.
"""

import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.migrate import alembic_config, upgrade_to_head
from portal.backup import postgres_copy, sqlite_copy
from portal.backup.archive import (
    BackupCorrupt,
    BackupRefused,
    Manifest,
    extract_verified,
    write_archive,
)
from portal.secrets_store import secret_path
from portal.services import audit
from portal.services import security_events as events
from portal.services.audit_chain import verify

__all__ = ["BackupCorrupt", "BackupRefused", "make_backup", "restore_backup"]

SQLITE_FILE = "database.sqlite"
POSTGRES_FILE = "database.pgdump"
SECRETS = "secrets"


@dataclass
class BackupResult:
    path: Path
    bytes: int
    database: str
    schema_revision: str | None
    tables: dict[str, int]
    secrets: list[str]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass
class RestoreResult:
    database: str
    schema_revision: str
    tables: dict[str, int]
    migrated_to: str | None
    audit_entries: int
    audit_problem: str | None
    secrets: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _kind(engine: Engine) -> str:
    kind = engine.dialect.name
    if kind not in ("sqlite", "postgresql"):
        raise BackupRefused(f"Backups are written for SQLite and PostgreSQL, not {kind}.")
    return kind


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupRefused("DATABASE_URL names an in-memory SQLite database; nothing to back up.")
    return Path(database)


def _secret_files(state_dir: Path) -> dict[str, Path]:
    folder = Path(state_dir) / SECRETS
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            secret_path(path.name, state_dir=state_dir)  # only names the store itself writes
            found[f"{SECRETS}/{path.name}"] = path
    return found


def _audit(
    engine: Engine, *, action: str, detail: str, now: datetime, failed: bool = False
) -> None:
    """A copy of every record, or all of them replaced, is on the audit trail like any export."""
    outcome = audit.Outcome.FAILURE if failed else audit.Outcome.SUCCESS
    with Session(engine) as session:
        audit.record(
            session=session,
            actor=None,
            category=events.BACKUP,
            action=action,
            outcome=outcome,
            detail=detail[:1000],
            now=now,
        )
        session.commit()


def _has_schema(engine: Engine) -> bool:
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine).exists():
        return False
    return inspect(engine).has_table("auditevent")


def make_backup(
    target: Path, *, engine: Engine, state_dir: Path, now: datetime, operator: str = ""
) -> BackupResult:
    """Write a backup of the database behind ``engine`` and the secrets to ``target``.

    The audit entry saying so is written first, so the backup holds its own record (and a
    failure is recorded after it)."""
    started = time.perf_counter()
    target = Path(target)
    if target.exists():
        raise BackupRefused(f"{target} exists already; choose a new name for the backup.")
    if not target.parent.is_dir():
        raise BackupRefused(f"There is no folder {target.parent} to write the backup into.")
    kind = _kind(engine)
    if not _has_schema(engine):
        raise BackupRefused("The database has no portal tables yet; run prepare first.")
    by = f" by system user {operator}" if operator else ""
    _audit(engine, action="backup", detail=f"whole database to {target}{by}", now=now)
    try:
        manifest, secrets = _copy_into(
            target, engine=engine, kind=kind, state_dir=state_dir, now=now
        )
    except Exception as error:
        _audit(engine, action="backup", detail=f"to {target}: {error}", now=now, failed=True)
        raise
    return BackupResult(
        path=target,
        bytes=target.stat().st_size,
        database=kind,
        schema_revision=manifest.schema_revision,
        tables=manifest.tables,
        secrets=[name.split("/", 1)[1] for name in secrets],
        seconds=time.perf_counter() - started,
    )


def _copy_into(
    target: Path, engine: Engine, kind: str, *, state_dir: Path, now: datetime
) -> tuple[Manifest, dict[str, Path]]:
    with tempfile.TemporaryDirectory(prefix=".portal-backup-", dir=target.parent) as work:
        work_dir = Path(work)
        if kind == "sqlite":
            copy = work_dir / SQLITE_FILE
            sqlite_copy.copy_database(_sqlite_path(engine), copy)
            revision, tables = sqlite_copy.describe(copy)
            versions: dict[str, str] = {}
        else:
            copy = work_dir / POSTGRES_FILE
            revision, tables, versions = postgres_copy.dump(engine, copy)
        if revision is None:
            raise BackupRefused("The database has no portal schema yet; run prepare first.")
        secrets = _secret_files(state_dir)
        manifest = Manifest(
            created_at=now.isoformat(),
            database=kind,
            schema_revision=revision,
            tables=tables,
            tool_versions=versions | {"host": socket.gethostname()},
        )
        write_archive(target, manifest, {copy.name: copy, **secrets})
    return manifest, secrets


def _check_contents(manifest: Manifest, kind: str) -> None:
    """The manifest lists the database copy and only secrets the store could have written."""
    database = SQLITE_FILE if kind == "sqlite" else POSTGRES_FILE
    if manifest.file(database) is None:
        raise BackupCorrupt(f"The backup has no database copy ({database}).")
    for archived in manifest.files:
        if archived.name == database:
            continue
        folder, _, name = archived.name.partition("/")
        try:
            if folder != SECRETS:
                raise ValueError(archived.name)
            secret_path(name, state_dir=Path("."))
        except ValueError:
            raise BackupCorrupt(f"The backup holds an unexpected file: {archived.name}") from None


def _check_schema(revision: str) -> str:
    """Refuse a schema this code does not know (a newer portal made it); return the code's head."""
    script = ScriptDirectory.from_config(alembic_config())
    try:
        script.get_revision(revision)
    except CommandError:
        raise BackupRefused(
            f"The backup's database schema ({revision}) is newer than this version of the "
            "portal knows. Install the portal version that made the backup (or a newer one) "
            "and restore again."
        ) from None
    head = script.get_current_head()
    if head is None:  # only a portal with no migrations at all
        raise BackupRefused("This version of the portal has no database schema to restore into.")
    return head


def restore_backup(
    source: Path,
    *,
    engine: Engine,
    state_dir: Path,
    now: datetime,
    force: bool = False,
    operator: str = "",
) -> RestoreResult:
    """Restore the backup at ``source`` into the database behind ``engine`` and ``state_dir``.

    Once the restored audit chain is verified, an entry records the restore: everything after
    the backup's moment is gone, and the trail says so."""
    started = time.perf_counter()
    kind = _kind(engine)
    with tempfile.TemporaryDirectory(prefix=".portal-restore-") as work:
        work_dir = Path(work)
        manifest = extract_verified(Path(source), work_dir)
        if manifest.database != kind:
            raise BackupRefused(
                f"This is a backup of a {_label(manifest.database)} database, but DATABASE_URL "
                f"points at {_label(kind)}. Restore it into the same kind of database."
            )
        _check_contents(manifest, kind)
        head = _check_schema(manifest.schema_revision)
        has_data = (
            sqlite_copy.holds_data(_sqlite_path(engine))
            if kind == "sqlite"
            else postgres_copy.holds_data(engine)
        )
        if has_data and not force:
            raise BackupRefused(
                "The database DATABASE_URL points at already holds data. Restoring would "
                "replace all of it; to do that, run restore again with --force."
            )
        if kind == "sqlite":
            engine.dispose()  # no pooled connection may keep the old content in view
            sqlite_copy.restore_database(work_dir / SQLITE_FILE, _sqlite_path(engine))
            restored = sqlite_copy.describe(_sqlite_path(engine))[1]
        else:
            postgres_copy.restore(
                engine,
                work_dir / POSTGRES_FILE,
                schema=manifest.tool_versions.get("schema", "public"),
                dump_major=int(manifest.tool_versions.get("pg_dump", "0")),
            )
            restored = postgres_copy.counts(engine)
        engine.dispose()
        if restored != manifest.tables:
            differ = sorted(
                t
                for t in set(restored) | set(manifest.tables)
                if restored.get(t) != manifest.tables.get(t)
            )
            raise BackupRefused(
                "The restored database does not match the backup's manifest (tables: "
                f"{', '.join(differ[:10])}). Do not use it; restore again with --force."
            )
        secrets = _restore_secrets(work_dir, manifest, state_dir)
    migrated_to = None
    if manifest.schema_revision != head:
        upgrade_to_head(engine)
        migrated_to = head
    with Session(engine) as session:
        chain = verify(session)
    if chain.ok:
        by = f" by system user {operator}" if operator else ""
        detail = f"whole database from {source} (made {manifest.created_at}){by}"
        _audit(engine, action="restore", detail=detail[:1000], now=now)
    return RestoreResult(
        database=kind,
        schema_revision=manifest.schema_revision,
        tables=restored,
        migrated_to=migrated_to,
        audit_entries=chain.checked,
        audit_problem=None if chain.ok else f"entry {chain.first_bad_id}: {chain.problem}",
        secrets=secrets,
        seconds=time.perf_counter() - started,
    )


def _restore_secrets(work_dir: Path, manifest: Manifest, state_dir: Path) -> list[str]:
    """Put the backup's secrets in the state folder; they belong with the restored database (the
    demo password opens its accounts), so they replace any there."""
    names = []
    for archived in manifest.files:
        if not archived.name.startswith(f"{SECRETS}/"):
            continue
        name = archived.name.split("/", 1)[1]
        target = secret_path(name, state_dir=state_dir)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staged = target.with_name(f".{name}.restore")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write((work_dir / archived.name).read_bytes())
        os.replace(staged, target)
        names.append(name)
    return names


def _label(kind: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(kind, kind)
