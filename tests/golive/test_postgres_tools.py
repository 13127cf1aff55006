"""The PostgreSQL client tools: the version must match the server, the password stays off argv."""

import stat

import pytest

from db.engine import make_engine
from portal.backup import postgres_copy
from portal.backup.archive import BackupRefused


def _fake_tool(folder, name: str, version: str) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_a_client_older_than_the_server_is_refused_with_what_to_install(tmp_path, monkeypatch):
    _fake_tool(tmp_path, "pg_dump", "13.4")
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(BackupRefused) as refused:
        postgres_copy.tool("pg_dump", 98)
    assert refused.value.user_message == (
        "pg_dump is version 13 but the database server runs PostgreSQL 98; install "
        "postgresql-client-98 (or newer) so the two match."
    )


def test_a_client_as_new_as_the_server_is_used(tmp_path, monkeypatch):
    _fake_tool(tmp_path, "pg_restore", "98.1")
    monkeypatch.setenv("PATH", str(tmp_path))

    assert postgres_copy.tool("pg_restore", 98) == (str(tmp_path / "pg_restore"), 98)


def test_missing_client_tools_say_which_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(BackupRefused, match="apt-get install postgresql-client-97"):
        postgres_copy.tool("pg_dump", 97)


def test_connection_goes_to_the_tools_through_the_environment():
    engine = make_engine(
        "postgresql+psycopg://clinic:s3cret@db.example:6543/portal?sslmode=require"
    )

    env = postgres_copy.libpq_env(engine)

    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "db.example",
        "6543",
        "clinic",
        "portal",
    )
    assert env["PGPASSWORD"] == "s3cret" and env["PGSSLMODE"] == "require"
