"""A restore checks the file before it touches anything: damaged, altered, foreign, too new, or
aimed at a database that holds data (without --force) are all refused in plain words."""

import gzip
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import Patient
from portal.backup import BackupCorrupt, BackupRefused, make_backup, restore_backup
from portal.backup.archive import Manifest, write_archive
from tests.factories import create_patient


@pytest.fixture
def live(tmp_path, migrated_sqlite):
    """A small SQLite portal with two patients, and its state folder with a cookie key."""
    engine = migrated_sqlite(tmp_path / "live.db")
    with Session(engine) as session:
        create_patient(session)
        create_patient(session)
    (tmp_path / "state" / "secrets").mkdir(parents=True)
    (tmp_path / "state" / "secrets" / "cookie_key").write_text("key\n")
    yield engine
    engine.dispose()


@pytest.fixture
def backup_file(live, tmp_path) -> Path:
    result = make_backup(
        tmp_path / "portal.backup", engine=live, state_dir=tmp_path / "state", now=datetime.now(UTC)
    )
    return result.path


@pytest.fixture
def target(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'target' / 'portal.db'}")
    yield engine
    engine.dispose()


def _restore(path, engine, tmp_path, **kwargs):
    return restore_backup(
        path, engine=engine, state_dir=tmp_path / "target-state", now=datetime.now(UTC), **kwargs
    )


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def _repack(path: Path, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())


def _patients(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Patient)).one()


def test_backup_file_is_private_and_lists_every_file_with_its_checksum(backup_file):
    assert backup_file.stat().st_mode & 0o777 == 0o600
    members = _members(backup_file)
    manifest = json.loads(members["manifest.json"])
    assert manifest["database"] == "sqlite" and manifest["tables"]["patient"] == 2
    listed = {f["name"] for f in manifest["files"]}
    assert listed == {"database.sqlite", "secrets/cookie_key"} == set(members) - {"manifest.json"}


def test_a_flipped_byte_is_refused_and_the_target_stays_untouched(backup_file, target, tmp_path):
    data = bytearray(backup_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup_file.write_bytes(bytes(data))

    with pytest.raises(BackupCorrupt):
        _restore(backup_file, target, tmp_path)
    assert not (tmp_path / "target" / "portal.db").exists()
    assert not (tmp_path / "target-state").exists()


def test_a_truncated_file_is_refused(backup_file, target, tmp_path):
    backup_file.write_bytes(backup_file.read_bytes()[:-2000])

    with pytest.raises(BackupCorrupt):
        _restore(backup_file, target, tmp_path)


def test_a_database_swapped_inside_the_archive_fails_its_checksum(backup_file, target, tmp_path):
    members = _members(backup_file)
    database = bytearray(members["database.sqlite"])
    database[-100] ^= 0x01  # a valid gzip and tar, but not the bytes that were backed up
    members["database.sqlite"] = bytes(database)
    _repack(backup_file, members)

    with pytest.raises(BackupCorrupt, match="does not match its checksum"):
        _restore(backup_file, target, tmp_path)
    assert not (tmp_path / "target" / "portal.db").exists()


def test_a_file_the_manifest_does_not_list_is_refused(backup_file, target, tmp_path):
    members = _members(backup_file)
    members["../../etc/evil"] = b"x"
    _repack(backup_file, members)

    with pytest.raises(BackupCorrupt, match="does not list"):
        _restore(backup_file, target, tmp_path)


def test_a_file_that_is_not_a_backup_is_refused(tmp_path, target):
    other = tmp_path / "notes.tar.gz"
    other.write_bytes(gzip.compress(b"just some text"))

    with pytest.raises(BackupCorrupt):
        _restore(other, target, tmp_path)
    with pytest.raises(BackupRefused, match="no file"):
        _restore(tmp_path / "missing.backup", target, tmp_path)


def _crafted(tmp_path: Path, **changes) -> Path:
    """A backup of a made-up database file, with manifest fields changed."""
    payload = tmp_path / "payload"
    payload.write_bytes(b"not really a database")
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(),
        database="sqlite",
        schema_revision="0010",
        tables={},
    )
    for name, value in changes.items():
        setattr(manifest, name, value)
    path = tmp_path / "crafted.backup"
    name = "database.pgdump" if manifest.database == "postgresql" else "database.sqlite"
    write_archive(path, manifest, {name: payload})
    return path


def test_a_backup_without_its_database_copy_or_with_odd_secrets_is_refused(tmp_path, target):
    payload = tmp_path / "payload"
    payload.write_bytes(b"x")
    manifest = Manifest(created_at="", database="sqlite", schema_revision="0010", tables={})
    no_database = tmp_path / "no-database.backup"
    write_archive(no_database, manifest, {"secrets/cookie_key": payload})
    odd_secret = tmp_path / "odd-secret.backup"
    write_archive(odd_secret, manifest, {"database.sqlite": payload, "secrets/../x": payload})

    with pytest.raises(BackupCorrupt, match="no database copy"):
        _restore(no_database, target, tmp_path)
    with pytest.raises(BackupCorrupt):
        _restore(odd_secret, target, tmp_path)
    assert not (tmp_path / "target" / "portal.db").exists()


def test_a_postgresql_backup_is_refused_by_a_sqlite_portal(tmp_path, target):
    crafted = _crafted(tmp_path, database="postgresql")

    with pytest.raises(BackupRefused, match="backup of a PostgreSQL database, but DATABASE_URL"):
        _restore(crafted, target, tmp_path)


def test_a_backup_from_a_newer_portal_is_refused(tmp_path, target):
    crafted = _crafted(tmp_path, schema_revision="9999_from_the_future")

    with pytest.raises(BackupRefused, match="newer than this version of the portal knows"):
        _restore(crafted, target, tmp_path)
    assert not (tmp_path / "target" / "portal.db").exists()


def test_a_database_with_data_is_not_overwritten_without_force(backup_file, tmp_path):
    occupied = make_engine(f"sqlite:///{tmp_path / 'occupied.db'}")
    upgrade_to_head(occupied)
    with Session(occupied) as session:
        create_patient(session)
    try:
        with pytest.raises(BackupRefused, match="already holds data.*--force"):
            _restore(backup_file, occupied, tmp_path)
        assert _patients(occupied) == 1

        result = _restore(backup_file, occupied, tmp_path, force=True)
        assert _patients(occupied) == 2 and result.audit_problem is None
    finally:
        occupied.dispose()


def test_a_freshly_prepared_empty_database_is_restored_into_without_force(
    backup_file, target, tmp_path
):
    (tmp_path / "target").mkdir()
    upgrade_to_head(target)  # what prepare --no-demo leaves: the schema and its seeded rows

    result = _restore(backup_file, target, tmp_path)

    assert _patients(target) == 2 and result.migrated_to is None


def test_backup_never_overwrites_an_existing_file(backup_file, live, tmp_path):
    before = backup_file.read_bytes()
    with pytest.raises(BackupRefused, match="exists already"):
        make_backup(backup_file, engine=live, state_dir=tmp_path / "state", now=datetime.now(UTC))
    assert backup_file.read_bytes() == before
