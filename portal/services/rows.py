"""Reading rows where types need help: one row by id that should exist (a row gone meanwhile,
say an inbox item naming a request that is no longer there, is a plain-words NotFound, never an
AttributeError), and how many rows an UPDATE changed."""

from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Result
from sqlmodel import Session, SQLModel

from portal.errors import NotFound

T = TypeVar("T", bound=SQLModel)

# What a record view says when its patient row is gone (deleted meanwhile).
MISSING_PATIENT = "We could not find this patient's record."


def get_or_not_found(
    session: Session, model: type[T], row_id: object, missing: str | None = None
) -> T:
    """``session.get(model, row_id)``, or NotFound (``missing`` its message, else the default)."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(missing)
    return row


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE from ``session.execute`` changed. SQLAlchemy returns a
    CursorResult for those, typed as the general Result, which has no ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount
