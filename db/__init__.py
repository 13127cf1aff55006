"""Storage: SQLModel models, the engine, Alembic migrations."""
