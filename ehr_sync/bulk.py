"""Set-based reads and writes for the importer: one statement per table per batch, never per row."""

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from db.models import Observation, QuarantinedResource
from ehr_sync.tables import Row, key_columns, table_of


def _insert_for(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"bulk upsert is not written for {dialect}")


def upsert_rows(session: Session, model: type[SQLModel], rows: list[Row]) -> None:
    """INSERT ... ON CONFLICT (source, fhir_id[, code]) DO UPDATE for all rows at once."""
    if not rows:
        return
    table = table_of(model)
    keys = key_columns(model)
    statement = _insert_for(session)(table)
    changes = {column: statement.excluded[column] for column in rows[0] if column not in keys}
    if "report_fhir_id" in changes:
        # The link comes from the DiagnosticReport; re-importing the Observation must keep it.
        changes["report_fhir_id"] = func.coalesce(
            statement.excluded.report_fhir_id, table.c.report_fhir_id
        )
    statement = statement.on_conflict_do_update(index_elements=list(keys), set_=changes)
    session.connection().execute(statement, rows)


def existing_fhir_ids(
    session: Session, model: type[SQLModel], source: str, fhir_ids: Collection[str]
) -> set[str]:
    """Which of these resources are already stored (to tell created from updated)."""
    if not fhir_ids:
        return set()
    table = table_of(model)
    query = (
        select(table.c.fhir_id)
        .where(table.c.source == source, table.c.fhir_id.in_(fhir_ids))
        .distinct()
    )
    return set(session.connection().scalars(query))


def row_ids(
    session: Session, model: type[SQLModel], source: str, fhir_ids: Collection[str]
) -> dict[str, int]:
    """Database ids by FHIR id, for resolving references to Patients and Practitioners."""
    if not fhir_ids:
        return {}
    table = table_of(model)
    query = select(table.c.fhir_id, table.c.id).where(
        table.c.source == source, table.c.fhir_id.in_(fhir_ids)
    )
    return {fhir_id: row_id for fhir_id, row_id in session.connection().execute(query)}


def link_report_results(session: Session, source: str, links: Iterable[tuple[str, str]]) -> None:
    """Set Observation.report_fhir_id for (observation fhir id, report fhir id) pairs."""
    params = [
        {"b_source": source, "b_observation": observation, "b_report": report}
        for observation, report in links
    ]
    if not params:
        return
    table = table_of(Observation)
    statement = (
        update(table)
        .where(
            table.c.source == bindparam("b_source"),
            table.c.fhir_id == bindparam("b_observation"),
        )
        .values(report_fhir_id=bindparam("b_report"))
    )
    session.connection().execute(statement, params)


def insert_quarantined(session: Session, rows: list[Row], *, received_at: datetime) -> None:
    """Store resources that could not be imported, with their reasons, for an admin to review.

    A resource already waiting in quarantine exactly as it is (the same bad NDJSON line read
    again, the same bundle imported twice) is not added a second time.
    """
    if not rows:
        return
    table = table_of(QuarantinedResource)
    waiting = _open_entries(session, rows)
    fresh, seen = [], set()
    for row in rows:
        key = (row["source"], row["resource_type"], row["fhir_id"], row["raw_json"])
        if key not in waiting and key not in seen:
            seen.add(key)
            fresh.append({**row, "received_at": received_at})
    if fresh:
        session.connection().execute(table.insert(), fresh)


def _open_entries(session: Session, rows: list[Row]) -> set[tuple[Any, ...]]:
    table = table_of(QuarantinedResource)
    found: set[tuple[Any, ...]] = set()
    for source in {row["source"] for row in rows}:
        ids = {row["fhir_id"] for row in rows if row["source"] == source and row["fhir_id"]}
        types = {row["resource_type"] for row in rows if row["source"] == source}
        same_id: ColumnElement[bool] = table.c.fhir_id.is_(None)
        if ids:
            same_id = same_id | table.c.fhir_id.in_(ids)
        same_type: ColumnElement[bool] = table.c.resource_type.is_(None)
        if named := [t for t in types if t]:
            same_type = same_type | table.c.resource_type.in_(named)
        query = select(
            table.c.source, table.c.resource_type, table.c.fhir_id, table.c.raw_json
        ).where(table.c.source == source, table.c.resolved_at.is_(None), same_id, same_type)
        found.update(tuple(row) for row in session.connection().execute(query))
    return found


def resolve_quarantined(
    session: Session, source: str, resource_type: str, fhir_ids: Collection[str], *, now: datetime
) -> None:
    """Close the open quarantine entries of resources that have now been stored (corrected)."""
    if not fhir_ids:
        return
    table = table_of(QuarantinedResource)
    session.connection().execute(
        update(table)
        .where(
            table.c.source == source,
            table.c.resource_type == resource_type,
            table.c.fhir_id.in_(list(fhir_ids)),
            table.c.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )


def refresh_planner_stats(session: Session, tables: Collection[str]) -> None:
    """On PostgreSQL, ANALYZE the tables a bulk import has grown well past what the planner last
    saw. A first sync fills empty tables faster than autovacuum analyzes them, and a planner that
    still believes a table is empty scans it whole for every batch's id lookups."""
    if not tables or session.get_bind().dialect.name != "postgresql":
        return
    rows = (
        session.connection()
        .execute(
            text(
                "SELECT c.relname, c.reltuples, s.n_live_tup FROM pg_stat_user_tables s "
                "JOIN pg_class c ON c.oid = s.relid "
                "WHERE s.schemaname = current_schema() AND s.relname = ANY(:names)"
            ),
            {"names": list(tables)},
        )
        .all()
    )
    stale = [name for name, seen, live in rows if live > 2 * max(seen, 1000)]
    for name in stale:
        session.connection().execute(text(f'ANALYZE "{name}"'))
    if stale:
        session.commit()
