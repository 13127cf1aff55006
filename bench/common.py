"""Shared plumbing for the bench scripts: databases, timing summaries, SQL statement counting."""

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from db.engine import make_engine
from db.migrate import upgrade_to_head
from portal.config import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
# Databases the bench scripts must never empty: the test suite's and the demo's.
PROTECTED_DATABASES = frozenset({"test", "postgres", "template0", "template1"})


def default_sqlite_url(name: str) -> str:
    return f"sqlite:///{BENCH_DIR / f'{name}.db'}"


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def fresh_database(url: str) -> Engine:
    """An empty, migrated database at ``url`` (a SQLite file under var/bench, or a PostgreSQL
    database created on first use). Refuses the test suite's and the demo's databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.resolve().is_relative_to(BENCH_DIR.resolve()):
            raise SystemExit(f"Refusing to replace {path}: bench SQLite files live in {BENCH_DIR}")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        name = parsed.database or ""
        if name in PROTECTED_DATABASES or not name.startswith("bench"):
            raise SystemExit(f"Refusing to replace database {name!r}: use one named bench...")
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade_to_head(engine)
    return engine


def analyze(engine: Engine) -> None:
    """Refresh planner statistics after a bulk load (autovacuum would, minutes later)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


@contextmanager
def timed(label: str, log: dict | None = None) -> Iterator[None]:
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    if log is not None:
        log[label] = elapsed
    print(f"  {label}: {elapsed:.1f} s", flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 40 runs is the 38th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds of durations in seconds."""
    return statistics.median(values) * 1000, percentile(values, 0.95) * 1000


class StatementCounter:
    """Counts SQL statements sent on an engine (every cursor execute, executemany counts once)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.seconds = 0.0  # spent between sending statements and their return
        self.statements: list[str] = []
        self.keep = False
        self._started = 0.0

    def _before(self, _conn, _cursor, statement, _params, _context, _executemany) -> None:
        self.count += 1
        if self.keep:
            self.statements.append(statement)
        self._started = time.perf_counter()

    def _after(self, *_args) -> None:
        self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> "StatementCounter":
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def machine_note() -> str:
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
