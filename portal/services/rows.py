"""Reading one row by id where it should exist: a row gone meanwhile (deleted, or an inbox item
naming a request that is no longer there) is a plain-words NotFound, never an AttributeError."""

from typing import TypeVar

from sqlmodel import Session, SQLModel

from portal.errors import NotFound

T = TypeVar("T", bound=SQLModel)


def get_or_not_found(
    session: Session, model: type[T], row_id: object, missing: str | None = None
) -> T:
    """``session.get(model, row_id)``, or NotFound (``missing`` its message, else the default)."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(missing)
    return row
