"""What the EHR took back: a record entry marked "entered-in-error" is as if it were never there,
so no view or export of the record shows it."""

from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import col

WITHDRAWN = "entered-in-error"


def not_withdrawn(status: Any) -> ColumnElement[bool]:
    """SQL: ``status`` (a model's status column) is not withdrawn. A NULL status is kept: SQL's
    "!=" alone would silently drop the row."""
    return or_(col(status).is_(None), col(status) != WITHDRAWN)
