"""What the importer needs to know about a target table: its upsert key and column limits."""

from functools import cache
from typing import Any

from sqlalchemy import Table, UniqueConstraint, inspect
from sqlmodel import SQLModel

Row = dict[str, Any]

# Descriptive text that may be shortened to fit; any other over-long value (a code, an id, a
# status) would be wrong if cut, so the resource is quarantined instead.
_TRUNCATABLE = frozenset(
    {
        "achievement",
        "address",
        "addresses",
        "author",
        "body_site",
        "category",
        "conclusion",
        "description",
        "display",
        "dosage_text",
        "expressed_by",
        "family_name",
        "family_name_lower",
        "given_name",
        "given_name_lower",
        "manufacturer",
        "modality",
        "model",
        "name",
        "outcome",
        "procedure",
        "qualification",
        "reaction",
        "reason",
        "service_type",
        "title",
        "type_display",
        "value_string",
    }
)


class ValueTooLong(ValueError):
    """A coded or identifying value does not fit its column."""


def table_of(model: type[SQLModel]) -> Table:
    """The table a SQLModel table class maps (SQLModel's ``__table__`` is not typed)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


@cache
def key_columns(model: type[SQLModel]) -> tuple[str, ...]:
    """The columns of the (source, fhir_id, ...) unique constraint that upserts conflict on."""
    for constraint in table_of(model).constraints:
        if isinstance(constraint, UniqueConstraint) and "fhir_id" in constraint.columns:
            return tuple(column.name for column in constraint.columns)
    raise LookupError(f"{model.__name__} has no unique constraint on fhir_id")


@cache
def _string_limits(model: type[SQLModel]) -> dict[str, int]:
    # SQLModel's AutoString is a TypeDecorator, not a String, so ask for a length directly.
    limits = {
        column.name: getattr(column.type, "length", None) for column in table_of(model).columns
    }
    return {name: length for name, length in limits.items() if isinstance(length, int)}


def fit_row(model: type[SQLModel], row: Row) -> Row:
    """The row with free text cut to its column's length; raises ValueTooLong for other values."""
    for column, limit in _string_limits(model).items():
        value = row.get(column)
        if isinstance(value, str) and len(value) > limit:
            if column not in _TRUNCATABLE:
                raise ValueTooLong(f"{column} is longer than {limit} characters")
            row[column] = value[: limit - 1] + "…"
    return row
