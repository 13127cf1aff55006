"""What every command of ``portal.cli`` shares: the plain-words error and getting a database."""

from pathlib import Path

from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

import db.engine
from db.migrate import upgrade_to_head
from portal.config import Settings


class CliError(Exception):
    """A problem to report in one plain sentence, with the exit code to use."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def ensure_state_dir(settings: Settings) -> None:
    try:
        settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        url = parsed_url(settings.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            # SQLite creates the file but not its folder.
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(f"Could not create the folder {error.filename}: {error.strerror}.") from None


def migrated_engine(settings: Settings) -> Engine:
    where = safe_url(settings.database_url)
    try:
        engine = db.engine.get_engine()  # looked up at call time, so tests can swap it
        upgrade_to_head(engine)
    except (ArgumentError, NoSuchModuleError) as error:
        message = f"DATABASE_URL is not a database address this portal can use: {error}"
        raise CliError(message, 2) from None
    except OperationalError as error:
        raise CliError(
            f"Could not reach the database at {where}: {first_line(error.orig or error)}. "
            "Check DATABASE_URL and that the database server is running.",
            2,
        ) from None
    except SQLAlchemyError as error:
        raise CliError(f"Could not update the database at {where}: {first_line(error)}") from None
    return engine


def parsed_url(raw: str) -> URL:
    try:
        return make_url(raw)
    except ArgumentError as error:
        raise CliError(f"DATABASE_URL is not a database address: {error}", 2) from None


def safe_url(raw: str) -> str:
    """The database address without its password, fit to print."""
    return parsed_url(raw).render_as_string(hide_password=True)


def first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
