"""SQLite writers queue in the process instead of failing with "database is locked".

SQLite has one writer at a time. Its busy timeout makes a second writer retry for a while, but
under load a transaction that holds the write lock can wait long for the GIL (20 script threads
rendering), and the retrying writers give up: a script run fails and the user sees an error page.
Here every connection of the engine takes a process-wide queue before its first data-changing
statement and leaves it when its transaction ends, so writers of this process wait their turn
(bounded) and meet SQLite's lock only against other processes (the CLI, another job), where the
busy timeout still applies.

Re-entrant per thread: a thread that already writes through one connection and opens a second one
goes on to SQLite as before (which then waits on the busy timeout) instead of deadlocking here.
"""

import logging
import re
import threading

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry

_LOG = logging.getLogger(__name__)
# INSERT / UPDATE / DELETE / REPLACE, possibly after a WITH clause: statements that write.
_WRITES = re.compile(r"^\s*(?:WITH\b.*?\)\s*)?(INSERT|UPDATE|DELETE|REPLACE)\b", re.I | re.S)
WAIT_SECONDS = 120.0
_HELD = "sqlite_writer_queue"


class WriterQueue:
    """A lock any thread may release on the holder's behalf (pool clean-up runs elsewhere),
    re-entrant for the thread that holds it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self, timeout: float) -> int | None:
        """Wait for the queue; returns the owner token, or None after ``timeout``."""
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return me
            if not self._cond.wait_for(lambda: self._owner is None, timeout):
                return None
            self._owner, self._depth = me, 1
            return me

    def release(self, owner: int) -> None:
        with self._cond:
            if self._owner != owner:
                return
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify()

    @property
    def busy(self) -> bool:
        return self._owner is not None


def is_write(statement: str) -> bool:
    return bool(_WRITES.match(statement))


def install(engine: Engine, *, wait_seconds: float = WAIT_SECONDS) -> WriterQueue:
    """Queue this engine's writers; returns the queue (for tests)."""
    queue = WriterQueue()

    def before_execute(
        conn: Connection,
        _cursor: object,
        statement: str,
        _params: object,
        _context: object,
        _executemany: bool,
    ) -> None:
        info = conn.info
        if _HELD in info or not is_write(statement):
            return
        owner = queue.acquire(wait_seconds)
        if owner is None:
            # Waited long enough: go on and let SQLite's busy timeout decide.
            _LOG.warning("SQLite writer waited %.0f s for the queue; going on", wait_seconds)
            return
        info[_HELD] = owner

    def end(conn: Connection, *_args: object) -> None:
        owner = conn.info.pop(_HELD, None)
        if owner is not None:
            queue.release(owner)

    def checked_in(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        # A connection returned to the pool without commit or rollback (closed session).
        owner = record.info.pop(_HELD, None)
        if owner is not None:
            queue.release(owner)

    def reset(dbapi_connection: object, record: ConnectionPoolEntry, _reset_state: object) -> None:
        checked_in(dbapi_connection, record)

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    event.listen(engine, "reset", reset)
    event.listen(engine, "checkin", checked_in)
    return queue
