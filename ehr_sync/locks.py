"""Locks that say who may run the periodic jobs, across threads, processes and replicas.

PostgreSQL: a session-level ``pg_try_advisory_lock`` on a connection of its own. The lock lives
exactly as long as that connection: a replica that dies or loses its database link lets go, and
another one takes over at its next try. The key is derived from the schema, so portals sharing a
server in different schemas (tests, staging) do not block each other.

SQLite (one machine): ``flock`` on a file beside the state, which the kernel drops with the
process. Two opens of the file conflict even inside one process, so threads are covered too.
"""

import fcntl
import os
import threading
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

# First half of the two-int advisory key: this application's namespace.
_NAMESPACE = 0x0C11_1C00


class JobLock(Protocol):
    def try_acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class PgAdvisoryLock:
    """``pg_try_advisory_lock(namespace, hashtext(name@schema))`` on a dedicated connection."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._conn: Connection | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._conn is not None:
                return self._alive(self._conn)
            conn = self.engine.connect()
            try:
                got = conn.execute(
                    text(
                        "SELECT pg_try_advisory_lock(:ns, hashtext(:name || '@' || "
                        "current_schema()))"
                    ),
                    {"ns": _NAMESPACE, "name": self.name},
                ).scalar_one()
                conn.commit()  # end the transaction; the session-level lock stays
            except Exception:
                conn.invalidate()
                conn.close()
                raise
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True

    def held(self) -> bool:
        with self._mutex:
            return self._conn is not None and self._alive(self._conn)

    def _alive(self, conn: Connection) -> bool:
        """The lock is ours while its connection is; a dropped link means it is gone."""
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except Exception:
            self._drop()
            return False

    def release(self) -> None:
        with self._mutex:
            self._drop()

    def _drop(self) -> None:
        if self._conn is None:
            return
        # Closing the database connection itself (not returning it to the pool) frees the lock:
        # a pooled connection would keep it for whoever borrows it next.
        try:
            self._conn.invalidate()
            self._conn.close()
        finally:
            self._conn = None


class FileLock:
    """An exclusive, non-blocking ``flock`` on ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._fd is not None:
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        with self._mutex:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None


def make_lock(engine: Engine, name: str, *, state_dir: Path) -> JobLock:
    """The right lock for the database behind ``engine``."""
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLock(engine, name)
    return FileLock(Path(state_dir) / f"{name}.lock")
