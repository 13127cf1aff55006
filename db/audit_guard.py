"""The audit trail is append-only in the database itself: UPDATE and DELETE on auditevent fail.

The hash chain (portal/services/audit_chain.py) detects tampering after the fact; these triggers
stop the application, or anyone using its database account, from editing the trail at all.
Migration 0010 installs them; tests that simulate an attacker with owner rights remove them.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

MESSAGE = "the audit trail is append-only"

POSTGRES_INSTALL = (
    f"""
    CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}';
    END $$
    """,
    """
    CREATE OR REPLACE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_append_only()
    """,
)
POSTGRES_REMOVE = (
    "DROP TRIGGER IF EXISTS auditevent_append_only ON auditevent",
    "DROP FUNCTION IF EXISTS audit_append_only()",
)
SQLITE_INSTALL = tuple(
    f"""
    CREATE TRIGGER IF NOT EXISTS auditevent_no_{action.lower()} BEFORE {action} ON auditevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """
    for action in ("UPDATE", "DELETE")
)
SQLITE_REMOVE = (
    "DROP TRIGGER IF EXISTS auditevent_no_update",
    "DROP TRIGGER IF EXISTS auditevent_no_delete",
)


def _statements(dialect: str, *, install: bool) -> tuple[str, ...]:
    if dialect == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    return SQLITE_INSTALL if install else SQLITE_REMOVE


def install(connection: Connection) -> None:
    for statement in _statements(connection.dialect.name, install=True):
        connection.execute(text(statement))


def remove(connection: Connection) -> None:
    for statement in _statements(connection.dialect.name, install=False):
        connection.execute(text(statement))


def installed(connection: Connection) -> bool:
    """Whether the append-only triggers are in place (checked at start-up, by every scheduler
    tick and by ``python -m portal.audit_verify``)."""
    if connection.dialect.name == "postgresql":
        found = connection.execute(
            text(
                "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = 'auditevent_append_only' AND c.relname = 'auditevent' "
                "AND c.relnamespace = to_regnamespace(current_schema()) AND t.tgenabled <> 'D'"
            )
        ).scalar()
        return bool(found)
    names = set(
        connection.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'auditevent'"
            )
        ).scalars()
    )
    return {"auditevent_no_update", "auditevent_no_delete"} <= names
