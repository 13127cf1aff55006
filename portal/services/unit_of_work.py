"""How a page or component gets a database session for its service calls.

Pages and components never touch the engine, SQLModel or SQLAlchemy themselves (the import-linter
contract in pyproject.toml); this is their one door: a session for one unit of work, which the
services they call commit.
"""

from sqlmodel import Session

from db.engine import session_scope

# Session is re-exported for type annotations only (``session: Session`` in an action's lambda).
__all__ = ["Session", "session_scope"]
