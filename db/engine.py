"""The engine and sessions. One engine per database URL per process."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlmodel import Session, create_engine

from db import sqlite_writers
from portal import text_hygiene
from portal.config import get_settings

# Every session, whoever opens it: no control characters reach a text column.
event.listen(Session, "before_flush", text_hygiene.before_flush)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    # WAL lets the sync job write while pages read; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Writers of this process queue (db/sqlite_writers); this covers other processes.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine with the settings each backend needs."""
    # Database errors quote the statement's parameters (names, values, message text) in their
    # message, which ends up in logs and tracebacks; keep health data out of them.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        sqlite_writers.install(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return _engine_for(get_settings().database_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for one unit of work: the caller commits; anything unfinished rolls back."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def begin_write(session: Session) -> None:
    """Make the session's transaction real before a SAVEPOINT on SQLite.

    The sqlite3 driver only issues BEGIN before a data-changing statement, so a SAVEPOINT taken
    first starts a transaction of its own and its RELEASE commits: work the caller meant to roll
    back would stay. A no-op UPDATE makes the driver begin (and takes SQLite's write lock, which
    the savepoint's writes would take anyway). PostgreSQL needs nothing.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE patientreading SET id = id WHERE 0"))
