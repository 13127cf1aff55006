"""Backup of a busy database, restored elsewhere: every table row for row, and the audit chain.

Each backend gets two databases of its own (SQLite files; PostgreSQL databases created and dropped
here), because a restore replaces a whole database and the dump covers the portal's whole schema.
"""

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import AuditEvent, Role, User
from portal.backup import BackupRefused, make_backup, postgres_copy, restore_backup
from portal.services.audit_chain import verify
from portal.services.scheduling.visit_requests import request_visit
from portal.services.scheduling.visit_types import VISIT_TYPES
from tests.conftest import BACKENDS, NOW
from tests.factories import create_patient, create_user

# Updated in place by every audited write, so only the chain check can judge it mid-traffic.
UPDATED_IN_PLACE = {"auditchainhead"}
AUDIT_COLUMNS = [column.name for column in AuditEvent.__table__.columns]


def _postgres_pair() -> Iterator[tuple[Engine, Engine]]:
    base = make_url(os.environ["TEST_DATABASE_URL"])
    names = [f"cp_backup_{uuid.uuid4().hex[:8]}_{side}" for side in ("live", "restored")]
    admin = make_engine(base.render_as_string(hide_password=False)).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engines = [
        make_engine(base.set(database=name).render_as_string(hide_password=False)) for name in names
    ]
    try:
        yield engines[0], engines[1]
    finally:
        for engine in engines:
            engine.dispose()
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def live_and_target(request, tmp_path) -> Iterator[tuple[Engine, Engine]]:
    """A migrated live database and an empty place to restore into, on one backend."""
    if request.param == "sqlite":
        pair = (
            make_engine(f"sqlite:///{tmp_path / 'live.db'}"),
            make_engine(f"sqlite:///{tmp_path / 'restored' / 'portal.db'}"),
        )
        yield from _sqlite_pair(pair)
    else:
        yield from _postgres_pair()


def _sqlite_pair(pair) -> Iterator[tuple[Engine, Engine]]:
    try:
        yield pair
    finally:
        for engine in pair:
            engine.dispose()


class AuditedWriter(threading.Thread):
    """Patients asking for visits as fast as the database takes them: each one a request row, an
    inbox item and a hash-chained audit entry, committed together."""

    def __init__(self, engine: Engine, user_id: int, patient_id: int) -> None:
        super().__init__(daemon=True)
        self.engine, self.user_id, self.patient_id = engine, user_id, patient_id
        self.written = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def run(self) -> None:
        visit_type = next(iter(VISIT_TYPES))
        try:
            while not self.stop.is_set():
                with Session(self.engine, expire_on_commit=False) as session:
                    user = session.get(User, self.user_id)
                    request_visit(
                        user,
                        session=session,
                        now=NOW + timedelta(seconds=self.written),
                        patient_id=self.patient_id,
                        visit_type=visit_type,
                        reason=f"request {self.written}",
                    )
                self.written += 1
        except BaseException as error:  # reported by the test, not lost in the thread
            self.errors.append(error)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.written < count and not self.errors:
            assert time.monotonic() < deadline, f"only {self.written} writes in {timeout} s"
            time.sleep(0.01)


def _all_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table in the database (as it is now), in primary-key order."""
    metadata = MetaData()
    metadata.reflect(engine)
    assert [c.name for c in metadata.tables["auditevent"].columns] == AUDIT_COLUMNS
    rows = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return rows


def _chain(engine: Engine):
    with Session(engine) as session:
        return verify(session)


def test_backup_of_a_busy_database_restores_row_for_row_with_an_intact_audit_chain(
    live_and_target, tmp_path
):
    live, target = live_and_target
    upgrade_to_head(live)
    with Session(live, expire_on_commit=False) as session:
        patient = create_patient(session)
        user = create_user(session, role=Role.PATIENT, patient=patient)
    state = tmp_path / "state"
    (state / "secrets").mkdir(parents=True)
    (state / "secrets" / "cookie_key").write_text("the-cookie-key\n")
    writer = AuditedWriter(live, user.id, patient.id)
    writer.start()
    try:
        writer.wait_for(30)
        before = writer.written
        backup = make_backup(
            tmp_path / "busy.backup", engine=live, state_dir=state, now=datetime.now(UTC)
        )
        during = writer.written - before
        writer.wait_for(writer.written + 30)  # and the clinic goes on working after it
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert not writer.errors, writer.errors
    print(f"{live.dialect.name}: {before} writes before, {during} during the backup")

    restored_state = tmp_path / "restored-state"
    result = restore_backup(
        backup.path, engine=target, state_dir=restored_state, now=datetime.now(UTC)
    )

    assert result.audit_problem is None
    assert result.secrets == ["cookie_key"]
    assert (restored_state / "secrets" / "cookie_key").read_text() == "the-cookie-key\n"
    assert (restored_state / "secrets" / "cookie_key").stat().st_mode & 0o777 == 0o600
    restored_rows, live_rows = _all_rows(target), _all_rows(live)
    assert set(restored_rows) == set(live_rows)
    # The restore is on the restored trail, after everything the backup holds.
    restore_entry = _restore_entry(restored_rows)
    assert f"whole database from {backup.path}" in restore_entry
    # The copy is one moment of the live database: each table holds exactly the rows the live one
    # had then, so it is the head of the live table (whose later rows came after the backup).
    for table, rows in restored_rows.items():
        if table not in UPDATED_IN_PLACE:
            assert rows == live_rows[table][: len(rows)], table
    copied = len(restored_rows["auditevent"])
    assert _backup_entry(live_rows, backup.path) in restored_rows["auditevent"]
    assert before <= len(restored_rows["visitrequest"]) < len(live_rows["visitrequest"])
    assert copied < len(live_rows["auditevent"])
    assert result.audit_entries == copied and _chain(target).checked == copied + 1
    assert _chain(target).ok
    assert result.tables == backup.tables

    # Once the writes stop, a second backup restored over the first (--force) is the live
    # database exactly, the chain head included (but for the restore's own entry).
    quiet = make_backup(
        tmp_path / "quiet.backup", engine=live, state_dir=state, now=datetime.now(UTC)
    )
    restore_backup(
        quiet.path, engine=target, state_dir=restored_state, now=datetime.now(UTC), force=True
    )
    restored_rows, live_rows = _all_rows(target), _all_rows(live)
    _restore_entry(restored_rows)
    assert _chain(target).ok and _chain(target).checked == len(live_rows["auditevent"]) + 1
    del restored_rows["auditchainhead"], live_rows["auditchainhead"]
    assert restored_rows == live_rows


def _entry(row: tuple) -> dict:
    return dict(zip(AUDIT_COLUMNS, row, strict=True))


def _restore_entry(rows: dict[str, list[tuple]]) -> str:
    """Take the restore's own audit entry off the restored rows and return its detail."""
    entry = _entry(rows["auditevent"].pop())
    assert (entry["category"], entry["action"]) == ("backup and restore", "restore"), entry
    return entry["detail"]


def _backup_entry(rows: dict[str, list[tuple]], path) -> tuple:
    """The live trail's entry for the backup to ``path``, written before the copy was taken."""
    return next(
        row
        for row in rows["auditevent"]
        if _entry(row)["action"] == "backup" and str(path) in _entry(row)["detail"]
    )


@pytest.fixture
def postgres_pair() -> Iterator[tuple[Engine, Engine]]:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL")
    yield from _postgres_pair()


def test_a_postgres_restore_that_fails_half_way_leaves_the_database_as_it_was(
    postgres_pair, tmp_path
):
    source, target = postgres_pair
    for engine in (source, target):
        upgrade_to_head(engine)
    with Session(source) as session:
        for _ in range(3):
            create_patient(session)
    with Session(target) as session:
        create_patient(session, family_name="Keepme")
    before = _all_rows(target)
    dump = tmp_path / "database.pgdump"
    postgres_copy.dump(source, dump)
    # Damaged table data: the first statements run, then one fails.
    data = bytearray(dump.read_bytes())
    for at in range(len(data) - 40, len(data) - 8):
        data[at] ^= 0x5A
    dump.write_bytes(bytes(data))

    with pytest.raises(BackupRefused, match="The restore failed and was rolled back"):
        postgres_copy.restore(target, dump, schema="public", dump_major=15)

    assert _all_rows(target) == before


def test_when_pg_restore_itself_fails_psql_never_commits(postgres_pair, tmp_path):
    _source, target = postgres_pair
    upgrade_to_head(target)
    before = _all_rows(target)
    # What pg_restore does on a damaged dump: good SQL first, then an error exit.
    producer = ["sh", "-c", "echo 'DELETE FROM replytemplate;'; exit 1"]
    with target.connect() as conn:
        psql, _major = postgres_copy.tool("psql", postgres_copy.server_major(conn))
    runner = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--file=-"]

    with pytest.raises(BackupRefused, match="pg_restore failed \\(nothing was changed\\)"):
        postgres_copy._run_in_one_transaction(producer, runner, ["BEGIN;"], target)

    assert _all_rows(target) == before and before["replytemplate"]
