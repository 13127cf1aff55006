"""The go-live commands of ``python -m portal.cli``: create-admin, check-ehr, backup, restore.

create-admin: make an administrator (the first one of a clinic's own portal); asks for the username
and the password (twice), or reads PORTAL_ADMIN_USERNAME / PORTAL_ADMIN_PASSWORD for automation.
check-ehr: reach FHIR_BASE_URL and say what the sync can and cannot do there (exit 1 if it cannot
work). backup PATH / restore PATH [--force]: the database and its secrets in one checked file.
"""

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

import db.engine
from ehr_sync.check import check_ehr, report_lines
from ehr_sync.jobs import NotConfigured, make_client
from ehr_sync.sync import WRITE_BACK_TYPES
from portal import backup as backups
from portal.cli_base import CliError, ensure_state_dir, first_line, migrated_engine, safe_url
from portal.config import Settings
from portal.errors import PortalError
from portal.services import first_admin

COMMANDS = ("create-admin", "check-ehr", "backup", "restore")
USERNAME_ENV = "PORTAL_ADMIN_USERNAME"
PASSWORD_ENV = "PORTAL_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a password
NAME_ENV = "PORTAL_ADMIN_NAME"
PASSWORD_TRIES = 3

T = TypeVar("T")


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    admin = commands.add_parser(
        "create-admin",
        help="create an administrator account (asks, or reads PORTAL_ADMIN_USERNAME and "
        "PORTAL_ADMIN_PASSWORD); two-step sign-in is set up at the first sign-in",
    )
    admin.add_argument("--username", help=f"the new account's username (or {USERNAME_ENV})")
    admin.add_argument("--name", help=f"the person's name, shown in the portal (or {NAME_ENV})")
    commands.add_parser(
        "check-ehr",
        help="check that FHIR_BASE_URL offers what the sync needs; exit 1 if the sync cannot work",
    )
    backup = commands.add_parser(
        "backup", help="copy the database and its secrets into one checked file, while it runs"
    )
    backup.add_argument("path", type=Path, help="the backup file to write (must not exist)")
    restore = commands.add_parser(
        "restore", help="restore a backup into DATABASE_URL (stop the portal first)"
    )
    restore.add_argument("path", type=Path, help="the backup file to read")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already holds data"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "create-admin":
        return create_admin(settings, username=args.username, name=args.name)
    if args.command == "check-ehr":
        return check(settings)
    if args.command == "backup":
        return backup(settings, args.path)
    return restore(settings, args.path, force=args.force)


# --- create-admin ------------------------------------------------------------------------------


def create_admin(
    settings: Settings, *, username: str | None = None, name: str | None = None
) -> int:
    """Create an administrator from the environment, or by asking at the terminal."""
    try:
        return _create_admin(settings, username=username, name=name)
    except EOFError:  # Ctrl-D at a prompt
        raise CliError("No answer given; no account was created.", 2) from None


def _create_admin(settings: Settings, *, username: str | None, name: str | None) -> int:
    ensure_state_dir(settings)
    engine = migrated_engine(settings)
    username = username or os.environ.get(USERNAME_ENV)
    password = os.environ.get(PASSWORD_ENV)
    name = name or os.environ.get(NAME_ENV) or ""
    interactive = password is None
    if interactive and not sys.stdin.isatty():
        raise CliError(
            f"No terminal to ask for the password: set {USERNAME_ENV} and {PASSWORD_ENV} "
            "(for example from a secrets manager), or run this in a terminal.",
            2,
        )
    if not interactive and not username:
        raise CliError(f"{PASSWORD_ENV} is set but {USERNAME_ENV} is not.", 2)
    with Session(engine, expire_on_commit=False) as session:
        if interactive:
            username = _ask_username(username, session=session)
        for attempt in range(1, PASSWORD_TRIES + 1):
            if interactive or password is None:  # None only when interactive (no variable)
                password = getpass.getpass("Password (at least 12 characters): ")
                confirm = getpass.getpass("The same password again: ")
            else:
                confirm = password
            try:
                user = _guarded_db(
                    first_admin.create_admin,
                    username=username,
                    password=password,
                    confirm=confirm,
                    display_name=name,
                    operator=_operator(),
                    session=session,
                    now=datetime.now(UTC),
                )
                break
            except first_admin.UsernameTaken as error:
                raise CliError(error.user_message, 2) from None
            except PortalError as error:
                if not interactive or attempt == PASSWORD_TRIES:
                    raise CliError(error.user_message, 2) from None
                print(error.user_message, file=sys.stderr)
    print(f"Created the administrator account {user.username}.")
    print(
        f"Sign in at {settings.portal_url} with that username and password. "
        + (
            "First, the portal asks you to set up two-step sign-in: scan the QR code with an "
            "authenticator app (or type the key shown under it) and enter the code it shows."
            if settings.mfa_required_for_staff
            else "Warning: MFA_REQUIRED_FOR_STAFF is off, so two-step sign-in is not asked "
            "for; set it up under Account security, or turn the setting back on."
        )
    )
    return 0


def _ask_username(username: str | None, *, session: Session) -> str:
    for _ in range(PASSWORD_TRIES):
        username = username or input("Username for the new administrator: ")
        problem = first_admin.username_problem(username, session=session)
        if problem is None:
            return first_admin.normalize_username(username)
        print(problem, file=sys.stderr)
        username = None
    raise CliError("No usable username was given.", 2)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"uid {os.getuid()}"


def _guarded_db(call: Callable[..., T], **kwargs: Any) -> T:
    try:
        return call(**kwargs)
    except OperationalError as error:
        message = f"The database stopped answering: {first_line(error.orig or error)}"
        raise CliError(message, 2) from None
    except SQLAlchemyError as error:
        raise CliError(f"The database refused the change: {first_line(error)}") from None


# --- check-ehr ---------------------------------------------------------------------------------


def check(settings: Settings) -> int:
    """Print what the configured EHR offers the sync; 1 if the sync cannot work, 2 if unset."""
    try:
        client = make_client(settings, max_attempts=1)
    except NotConfigured as error:
        raise CliError(str(error), 2) from None
    except OSError as error:  # the SMART private key file cannot be read
        raise CliError(f"Could not read FHIR_PRIVATE_KEY_PATH: {error}", 2) from None
    with client:
        write_back = WRITE_BACK_TYPES if settings.fhir_write_back else ()
        result = check_ehr(client, auth_kind=settings.fhir_auth, write_back=write_back)
    print("\n".join(report_lines(result, auth_kind=settings.fhir_auth)))
    return 0 if result.sync_can_work else 1


# --- backup and restore ------------------------------------------------------------------------


def backup(settings: Settings, path: Path) -> int:
    engine = db.engine.get_engine()
    where = safe_url(settings.database_url)
    result = _guarded_backup(
        lambda: backups.make_backup(
            path,
            engine=engine,
            state_dir=settings.state_dir,
            now=datetime.now(UTC),
            operator=_operator(),
        ),
        where,
    )
    print(
        f"Backed up {where} ({result.database}, schema {result.schema_revision}): "
        f"{len(result.tables)} tables, {result.rows:,} rows, "
        f"secrets: {', '.join(result.secrets) or 'none'}."
    )
    print(
        f"Wrote {result.path} ({result.bytes / 1e6:.1f} MB) in {result.seconds:.1f} s. It holds "
        "health data and the cookie key: keep it where only the clinic's administrators can read "
        "it, and copy it off this machine."
    )
    return 0


def restore(settings: Settings, path: Path, *, force: bool) -> int:
    ensure_state_dir(settings)
    engine = db.engine.get_engine()
    where = safe_url(settings.database_url)
    result = _guarded_backup(
        lambda: backups.restore_backup(
            path,
            engine=engine,
            state_dir=settings.state_dir,
            now=datetime.now(UTC),
            force=force,
            operator=_operator(),
        ),
        where,
    )
    print(
        f"Restored {path} into {where}: {len(result.tables)} tables, {result.rows:,} rows, "
        f"the same as the backup's manifest (schema {result.schema_revision}"
        + (f", now migrated to {result.migrated_to})." if result.migrated_to else ").")
    )
    if result.secrets:
        print(
            f"Secrets restored into {settings.state_dir / 'secrets'}: {', '.join(result.secrets)}."
        )
    if result.audit_problem:
        print(f"AUDIT TRAIL BROKEN at {result.audit_problem}.", file=sys.stderr)
        return 1
    print(f"Audit trail intact: {result.audit_entries:,} entries verified.")
    return 0


def _guarded_backup(call: Callable[[], T], where: str) -> T:
    try:
        return call()
    except backups.BackupCorrupt as error:
        raise CliError(f"Refused: {error.user_message}", 3) from None
    except backups.BackupRefused as error:
        raise CliError(error.user_message, 2) from None
    except OperationalError as error:
        raise CliError(
            f"Could not reach the database at {where}: {first_line(error.orig or error)}", 2
        ) from None
    except SQLAlchemyError as error:
        raise CliError(f"The database at {where} failed: {first_line(error)}") from None
    except OSError as error:
        raise CliError(f"{error.filename or 'A file'}: {error.strerror or error}") from None
