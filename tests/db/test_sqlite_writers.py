"""Issue 17: SQLite writers of one process queue instead of failing with "database is locked"."""

import threading
import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

import db.engine
from db import sqlite_writers
from db.engine import make_engine

HOLD_SECONDS = 0.6


def _engine(path, *, queued: bool):
    url = f"sqlite:///{path}"
    # Without the queue: SQLite alone (WAL and a busy timeout), as before issue 17.
    engine = make_engine(url) if queued else create_engine(url)
    if not queued:
        event.listen(engine, "connect", db.engine._sqlite_pragmas)  # noqa: SLF001

    @event.listens_for(engine, "connect")
    def short_busy_timeout(dbapi_connection, _record):
        # Much shorter than the time the first writer holds its lock.
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, who TEXT)"))
    return engine


def _two_writers(engine) -> list[BaseException]:
    errors: list[BaseException] = []
    first_writes = threading.Event()

    def slow_writer():
        with engine.connect() as conn:
            conn.execute(text("INSERT INTO t (who) VALUES ('slow')"))
            first_writes.set()
            time.sleep(HOLD_SECONDS)  # holds SQLite's write lock (a long page run, the GIL)
            conn.commit()

    def second_writer():
        first_writes.wait(5)
        try:
            with engine.connect() as conn:
                conn.execute(text("INSERT INTO t (who) VALUES ('second')"))
                conn.commit()
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return errors


def test_without_the_queue_a_second_writer_fails_with_database_is_locked(tmp_path):
    engine = _engine(tmp_path / "a.db", queued=False)
    errors = _two_writers(engine)
    assert errors and isinstance(errors[0], OperationalError)
    assert "locked" in str(errors[0])


def test_with_the_queue_the_second_writer_waits_its_turn(tmp_path):
    engine = _engine(tmp_path / "b.db", queued=True)
    assert _two_writers(engine) == []
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT who FROM t ORDER BY id")).scalars().all()
    assert rows == ["slow", "second"]


def test_the_queue_is_left_on_commit_rollback_and_when_a_connection_is_closed(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    queue = sqlite_writers.install(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    for end in ("commit", "rollback", "close"):
        conn = engine.connect()
        conn.execute(text("SELECT 1"))
        assert not queue.busy  # reads never queue
        conn.execute(text("INSERT INTO t DEFAULT VALUES"))
        assert queue.busy
        if end == "close":
            conn.close()
        else:
            getattr(conn, end)()
            conn.close()
        assert not queue.busy, end


def test_a_thread_writing_through_two_connections_is_not_deadlocked_by_the_queue():
    queue = sqlite_writers.WriterQueue()
    first = queue.acquire(1)
    assert queue.acquire(0.1) == first  # the same thread goes on
    queue.release(first)
    assert queue.busy
    queue.release(first)
    assert not queue.busy


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO t VALUES (1)", True),
        ("  update t set x = 1", True),
        ("DELETE FROM t", True),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", True),
        ("SELECT * FROM t", False),
        ("PRAGMA busy_timeout=1", False),
        ("SAVEPOINT sa_1", False),
    ],
)
def test_which_statements_write(statement, writes):
    assert sqlite_writers.is_write(statement) is writes
