"""Bring a database to the newest schema with Alembic (used at start-up and by tests)."""

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from portal.config import PROJECT_ROOT


def alembic_config() -> Config:
    return Config(str(PROJECT_ROOT / "alembic.ini"))


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration not yet applied; safe to call on an up-to-date database."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
