"""What several tables share: the UTC clock default, FHIR row identity, and a coded value."""

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlmodel import Field, SQLModel

from portal.clock import utcnow

__all__ = ["CodedValue", "FhirRow", "RowNotSaved", "saved_id", "saved_ids", "utcnow"]


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


class RowNotSaved(RuntimeError):
    """A row's id was read before the database gave it one: a bug in the caller, never input."""


def saved_id(row: _Row) -> int:
    """The id of a row read from (or flushed to) the database. Table ids are ``int | None``
    because a new row has none until it is flushed; code that holds a saved row uses this."""
    if row.id is None:
        raise RowNotSaved(f"{type(row).__name__} has no id: it was never flushed")
    return row.id


def saved_ids(ids: Iterable[int | None]) -> list[int]:
    """Ids read from a table's id column (``select(Model.id)``), as ints. The column is typed
    ``int | None`` like the model's field, but a stored row always has one: None is a bug."""
    checked = []
    for row_id in ids:
        if row_id is None:
            raise RowNotSaved("an id read from the database is None")
        checked.append(row_id)
    return checked


class FhirRow(SQLModel):
    """Columns every FHIR-sourced table shares."""

    source: str = Field(default="ehr", max_length=64)
    fhir_id: str = Field(max_length=64)
    version_id: str | None = Field(default=None, max_length=64)
    last_updated: datetime | None = None


class CodedValue(SQLModel):
    """A FHIR CodeableConcept flattened to its first coding: the code, its system, and the text
    shown to people. A table whose code is required (Observation) narrows ``code``."""

    code_system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=500)
