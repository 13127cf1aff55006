"""How a page or component gets a database session for its service calls.

Pages and components never touch the engine, SQLModel or SQLAlchemy themselves (the import-linter
contract in pyproject.toml); this is their one door: a session for one unit of work, which the
services they call commit.
"""

from db.engine import session_scope

__all__ = ["session_scope"]
