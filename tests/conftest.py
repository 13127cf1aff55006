"""Shared fixtures. Every database test runs on SQLite, and also on PostgreSQL when
TEST_DATABASE_URL is set (CI sets it), so the same code is proven on both backends."""

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import streamlit.testing.v1.app_test
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from streamlit.runtime.pages_manager import PagesManager

import db.engine
import portal.passwords
from db import audit_guard
from db.engine import make_engine
from db.migrate import upgrade_to_head
from portal.config import PROJECT_ROOT, get_settings
from tests.markers import markers_for

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])

# No background scheduler in app runs under test (AppTest, a served app): tests tick it by hand.
os.environ.setdefault("SCHEDULER_ENABLED", "false")

# bcrypt at its lowest cost: sign-in, password change and account codes hash and check passwords
# by the same code, in milliseconds instead of a quarter of a second each (the login tests check
# dozens). tests/portal/test_passwords.py pins the production cost.
portal.passwords.ROUNDS = 4


class _RouterOnlyPages(PagesManager):
    """AppTest as the real server runs (components/launcher.py): app.py is the only entry. AppTest
    re-detects the pages/ folder on every run, and Streamlit's old pages-folder mode would run a
    page file itself (which draws nothing now) instead of app.py's router."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


streamlit.testing.v1.app_test.PagesManager = _RouterOnlyPages


def _own_fixture_functions(item) -> list:
    """The functions of the project's own fixtures a test uses (not pytest's or plugins')."""
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info else ()
    return [
        fixture.func
        for defs in definitions
        for fixture in defs
        if getattr(fixture.func, "__module__", "").startswith("tests.")
    ]


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it uses (tests/markers.py), for the fast loop's -m filter."""
    for item in items:
        try:
            path = item.path.relative_to(PROJECT_ROOT).as_posix()
        except ValueError:
            path = item.path.as_posix()
        callspec = getattr(item, "callspec", None)
        found = markers_for(
            path=path,
            fixtures=getattr(item, "fixturenames", ()),
            params=callspec.params if callspec else {},
            function=getattr(item, "function", None),
            module=getattr(item, "module", None),
            fixture_functions=_own_fixture_functions(item),
        )
        for name in sorted(found - {mark.name for mark in item.iter_markers()}):
            item.add_marker(name)


# A fixed "now" so tests never depend on the wall clock.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _sqlite_engine(tmp_path_factory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def _postgres_engine() -> Iterator[Engine]:
    """A private schema per test run, so parallel runs on one server never collide."""
    base_url = os.environ["TEST_DATABASE_URL"]
    schema = f"cp_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(base_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(request, tmp_path_factory) -> Iterator[Engine]:
    """One migrated database per backend per run (migrating per test would be slow)."""
    if request.param == "sqlite":
        yield from _sqlite_engine(tmp_path_factory)
    else:
        yield from _postgres_engine()


@pytest.fixture(scope="session")
def _migrated_sqlite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@pytest.fixture
def migrated_sqlite(_migrated_sqlite_file) -> Callable[[Path], Engine]:
    """A SQLite database file of the test's own, as migrating to head leaves it: a copy (SQLite's
    backup API, milliseconds) of one migrated once per test process (a third of a second)."""

    def copy_to(path: Path) -> Engine:
        source, target = sqlite3.connect(_migrated_sqlite_file), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return make_engine(f"sqlite:///{path}")

    return copy_to


def _tables_with_rows(conn, tables) -> set[str]:
    """One query for which tables hold rows: most tests leave most of the 57 tables empty."""
    probes = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
    )
    return set(conn.execute(text(probes)).scalars())


def _empty_all_tables(engine: Engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            filled = _tables_with_rows(conn, tables)
            # The audit trail refuses DELETE (db/audit_guard.py); lift the guard to empty it.
            audit_guard.remove(conn)
            for table in tables:
                if table.name in filled:
                    conn.execute(table.delete())
        audit_guard.install(conn)  # back, if a test removed it to play the attacker


@pytest.fixture
def engine(migrated_engine, monkeypatch, tmp_path) -> Iterator[Engine]:
    """An empty database, which the app's own session_scope() also uses during the test.

    The audit checkpoints of an emptied database start afresh too (they live outside it).
    """
    _empty_all_tables(migrated_engine)
    monkeypatch.setattr(db.engine, "get_engine", lambda: migrated_engine)
    monkeypatch.setenv("AUDIT_CHECKPOINT_PATH", str(tmp_path / "audit-checkpoints.log"))
    get_settings.cache_clear()
    yield migrated_engine
    get_settings.cache_clear()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def now() -> datetime:
    return NOW


TEST_COOKIE_KEY = "test-cookie-key-test-cookie-key-0123"


@pytest.fixture
def app_env(engine, monkeypatch) -> Iterator[Engine]:
    """Settings for an app run (AppTest or a served app): the test database, a cookie key, no
    pause after a password."""
    monkeypatch.setenv("COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("LOGIN_SLEEP_SECONDS", "0")
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()
