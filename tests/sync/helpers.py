"""Assertions shared by the sync tests: what the database holds, per FHIR type."""

from sqlalchemy import func
from sqlmodel import Session, select

from ehr_sync.mappers import MAPPINGS


def stored_counts(session: Session, source: str = "ehr") -> dict[str, int]:
    """Distinct FHIR resources stored per type (an Observation may span several rows)."""
    counts = {}
    for rtype, mapping in MAPPINGS.items():
        model = mapping.model
        counts[rtype] = session.exec(
            select(func.count(func.distinct(model.fhir_id))).where(model.source == source)
        ).one()
    return counts


def duplicate_rows(session: Session) -> int:
    """Rows beyond one per (fhir_id, code) key: must always be zero."""
    extra = 0
    for mapping in MAPPINGS.values():
        model = mapping.model
        total = session.exec(select(func.count()).select_from(model)).one()
        keys = [model.source, model.fhir_id] + (
            [model.code] if model.__name__ == "Observation" else []
        )
        distinct = session.exec(
            select(func.count()).select_from(select(*keys).distinct().subquery())
        ).one()
        extra += total - distinct
    return extra
