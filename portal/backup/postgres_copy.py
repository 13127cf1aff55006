"""PostgreSQL: ``pg_dump`` / ``pg_restore`` in the custom format, on the portal's own schema.

Consistency: the portal opens a REPEATABLE READ transaction, exports its snapshot and reads the
schema revision and row counts in it; ``pg_dump --snapshot`` then dumps exactly that state, so the
manifest describes the dump row for row while the clinic keeps working.

The client tools must be at least the server's major version (``pg_dump`` refuses a newer server,
and a dump made by a newer ``pg_dump`` cannot be read by an older ``pg_restore``); on Debian the
matching ones are in /usr/lib/postgresql/<major>/bin (package postgresql-client-<major>).
"""

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Container
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from portal.backup.archive import BackupRefused

SEEDED_TABLES = frozenset(
    {"alembic_version", "auditchainhead", "replytemplate", "apscheduler_jobs"}
)
# libpq reads these from the environment: the password never appears on a command line.
_QUERY_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
}
TOOL_TIMEOUT_S = 6 * 3600


def libpq_env(engine: Engine) -> dict[str, str]:
    """The connection of ``engine`` as PG* environment variables for the client tools."""
    url = engine.url
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }.items():
        if value:
            env[key] = value
    for key, given in url.query.items():
        if key in _QUERY_ENV:
            env[_QUERY_ENV[key]] = given if isinstance(given, str) else given[0]
    return env


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    # Popen leaves a stream None only when it was not asked for a PIPE; these were.
    if stream is None:
        raise BackupRefused("The restore tools started without their pipes.")
    return stream


def server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def tool(name: str, major: int) -> tuple[str, int]:
    """The ``pg_dump``/``pg_restore`` to use for a server of ``major``, and its own major."""
    candidates = [f"/usr/lib/postgresql/{major}/bin/{name}", shutil.which(name)]
    found = [c for c in candidates if c and Path(c).exists()]
    if not found:
        raise BackupRefused(
            f"{name} is not installed. Install the PostgreSQL client tools of the server's "
            f"version (on Debian: apt-get install postgresql-client-{major})."
        )
    path = found[0]
    version = _tool_major(path)
    if version < major:
        raise BackupRefused(
            f"{name} is version {version} but the database server runs PostgreSQL {major}; "
            f"install postgresql-client-{major} (or newer) so the two match."
        )
    return path, version


def _tool_major(path: str) -> int:
    done = subprocess.run(  # noqa: S603 - a found program, fixed arguments, no shell
        [path, "--version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
    if done.returncode != 0 or not found:
        raise BackupRefused(f"Could not tell the version of {path}: {done.stderr.strip()}")
    return int(found.group(1))


def current_schema(connection: Connection) -> str:
    schema: str = connection.execute(text("SELECT current_schema()")).scalar_one()
    return schema


def _tables(connection: Connection, schema: str) -> list[str]:
    query = text("SELECT tablename FROM pg_tables WHERE schemaname = :schema ORDER BY tablename")
    return list(connection.execute(query, {"schema": schema}).scalars())


def _counts(connection: Connection, schema: str) -> dict[str, int]:
    # Names come from the catalog, not from anyone's input.
    return {
        table: connection.execute(
            text(f'SELECT count(*) FROM "{schema}"."{table}"')  # noqa: S608
        ).scalar_one()
        for table in _tables(connection, schema)
    }


def _revision(connection: Connection, schema: str, tables: Container[str]) -> str | None:
    if "alembic_version" not in tables:
        return None
    query = text(f'SELECT version_num FROM "{schema}".alembic_version')  # noqa: S608
    return connection.execute(query).scalar_one_or_none()


def dump(engine: Engine, target: Path) -> tuple[str | None, dict[str, int], dict[str, str]]:
    """Dump the portal's schema into ``target``; returns (revision, rows per table, versions)."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            major = server_major(connection)
            pg_dump, pg_dump_major = tool("pg_dump", major)
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = current_schema(connection)
            counts = _counts(connection, schema)
            revision = _revision(connection, schema, counts)
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--schema={schema}",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={target}",
                ],
                engine,
                what="pg_dump",
            )
    versions = {"server": str(major), "pg_dump": str(pg_dump_major), "schema": schema}
    return revision, counts, versions


def holds_data(engine: Engine) -> bool:
    """True if the portal's schema has rows beyond what the migrations seed."""
    with engine.connect() as connection:
        schema = current_schema(connection)
        counts = _counts(connection, schema)
    return any(rows for table, rows in counts.items() if table not in SEEDED_TABLES)


def restore(engine: Engine, source: Path, *, schema: str, dump_major: int) -> None:
    """Replace the portal's tables in the target schema with those in the dump ``source``."""
    with engine.connect() as connection:
        major = server_major(connection)
        here = current_schema(connection)
    if here != schema:
        raise BackupRefused(
            f"The backup holds the schema {schema!r} but DATABASE_URL uses the schema {here!r}."
        )
    pg_restore, restore_major = tool("pg_restore", major)
    if restore_major < dump_major:
        raise BackupRefused(
            f"The backup was made by pg_dump {dump_major}; this pg_restore is version "
            f"{restore_major}. Install postgresql-client-{dump_major} or newer."
        )
    psql, _psql_major = tool("psql", major)
    entries = _run([pg_restore, "--list", str(source)], engine, what="pg_restore --list")
    # The schema itself exists already (and may belong to someone else): restore its contents.
    wanted = [
        line
        for line in entries.splitlines()
        if " SCHEMA - " not in line and " COMMENT - SCHEMA " not in line
    ]
    listing = source.with_suffix(".list")
    listing.write_text("\n".join(wanted) + "\n", encoding="utf-8")
    # Tables a newer portal already created here (prepare ran first, say) would clash with the
    # migrations that run after the restore, so all the schema's tables go, not only the dump's.
    with engine.connect() as connection:
        drops = [
            f'DROP TABLE IF EXISTS "{schema}"."{table}" CASCADE;'
            for table in _tables(connection, schema)
        ]
    # pg_restore writes the SQL and psql runs it after the drops in ONE transaction, committed
    # only once pg_restore has finished well: a restore that fails half-way (a damaged dump, a
    # full disk) leaves the database as it was.
    script = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        f"--use-list={listing}",
        "--file=-",
        str(source),
    ]
    runner = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--file=-"]
    _run_in_one_transaction(script, runner, ["BEGIN;", *drops], engine)


def _run_in_one_transaction(
    producer: list[str], runner: list[str], prelude: list[str], engine: Engine
) -> None:
    """Feed ``prelude`` and then ``producer``'s output to ``runner`` (psql), inside BEGIN; send
    COMMIT only if the producer succeeded. Without it psql ends and the server rolls back."""
    env = libpq_env(engine)
    with tempfile.TemporaryFile() as producer_errors, tempfile.TemporaryFile() as runner_errors:
        try:
            consumer = subprocess.Popen(  # noqa: S603 - the client tools, our arguments, no shell
                runner,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=runner_errors,
            )
            first = subprocess.Popen(  # noqa: S603 - as above
                producer, env=env, stdout=subprocess.PIPE, stderr=producer_errors
            )
        except OSError as error:
            raise BackupRefused(f"Could not run the restore: {error}") from None
        feed, dumped = _pipe(consumer.stdin), _pipe(first.stdout)
        try:
            feed.write(("\n".join(prelude) + "\n").encode())
            while chunk := dumped.read(1024 * 1024):
                feed.write(chunk)
            produced = first.wait()
            if produced == 0:
                feed.write(b"COMMIT;\n")
        except BrokenPipeError:  # psql stopped at an error (ON_ERROR_STOP): nothing committed
            first.kill()
            produced = first.wait()
        finally:
            dumped.close()
            with contextlib.suppress(BrokenPipeError):
                feed.close()
            ran = consumer.wait(timeout=TOOL_TIMEOUT_S)
        if ran != 0:
            runner_errors.seek(0)
            message = _last_line(runner_errors.read().decode(errors="replace"))
            raise BackupRefused(f"The restore failed and was rolled back: {message}")
        if produced != 0:
            producer_errors.seek(0)
            message = _last_line(producer_errors.read().decode(errors="replace"))
            raise BackupRefused(f"pg_restore failed (nothing was changed): {message}")


def _last_line(text_out: str) -> str:
    return (text_out.strip().splitlines() or ["no message"])[-1]


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return _counts(connection, current_schema(connection))


def _run(command: list[str], engine: Engine, *, what: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - the client tool with our arguments, no shell
            command,
            env=libpq_env(engine),
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
        )
    except OSError as error:
        raise BackupRefused(f"Could not run {what}: {error}") from None
    if done.returncode != 0:
        raise BackupRefused(f"{what} failed: {_last_line(done.stderr)}")
    return done.stdout
