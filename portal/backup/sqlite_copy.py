"""SQLite: a consistent copy of a live database with SQLite's online backup API.

The copy is taken in one step inside a read transaction; in WAL mode (db/engine.py) writers carry
on meanwhile and the copy is the database as it was when the step began.
"""

import sqlite3
from contextlib import closing
from pathlib import Path

from portal.backup.archive import BackupRefused

BUSY_TIMEOUT_MS = 30_000
# Rows seeded by the migrations themselves: a database holding only these is empty.
SEEDED_TABLES = frozenset({"alembic_version", "auditchainhead", "replytemplate"})


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def copy_database(source: Path, target: Path) -> None:
    """Copy the database at ``source`` (in use or not) into the new file ``target``."""
    if not source.exists():
        raise BackupRefused(f"There is no database file at {source}.")
    with closing(_connect(source)) as live, closing(_connect(target)) as copy:
        live.backup(copy)
        # One self-contained file: no -wal beside it in the archive.
        copy.execute("PRAGMA journal_mode=DELETE")


def describe(path: Path) -> tuple[str | None, dict[str, int]]:
    """The Alembic revision and the rows per table of the database at ``path``."""
    with closing(_connect(path)) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {}
        for table in tables:
            query = f'SELECT count(*) FROM "{table}"'  # noqa: S608
            counts[table] = connection.execute(query).fetchone()[0]
        revision = None
        if "alembic_version" in counts:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    return revision, counts


def holds_data(path: Path) -> bool:
    """True if the database at ``path`` has rows beyond what the migrations seed."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    _revision, counts = describe(path)
    return any(rows for table, rows in counts.items() if table not in SEEDED_TABLES)


def restore_database(copy: Path, target: Path) -> None:
    """Replace the whole content of the database at ``target`` with ``copy``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(copy)) as source, closing(_connect(target)) as live:
        source.backup(live)
