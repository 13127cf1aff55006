"""Command line: ``python -m portal.cli prepare`` (run by scripts/start), ``seed``, ``sync``
and ``demo-ehr``; the go-live commands create-admin, check-ehr, backup and restore are in
``portal.golive_cli``.

prepare: make the state folder, migrate the database, seed the demo clinic on the first start of
the demo database, and print the demo logins (on every start). seed: load N synthetic patients
into DATABASE_URL, for benchmarks. sync: deliver the write-back outbox and run one EHR sync (for
cron; --all-jobs also sends due reminders and expires waitlist offers, like a scheduler tick).
demo-ehr: serve the demo clinic from a local FHIR server (scripts/demo-ehr) for the sync to pull.
Errors are printed in plain words with a non-zero exit code.
"""

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, overload

from pydantic import ValidationError
from sqlalchemy import Engine, func
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, col, select

from db import audit_guard
from db.models import Patient, Role, User
from portal import golive_cli
from portal.cli_base import CliError
from portal.cli_base import ensure_state_dir as _ensure_state_dir
from portal.cli_base import first_line as _first_line
from portal.cli_base import migrated_engine as _migrated_engine
from portal.cli_base import parsed_url as _parsed_url
from portal.config import PROJECT_ROOT, Settings, get_settings
from portal.demo.seed import (
    PATIENT_USERNAME,
    DemoLogin,
    demo_logins,
    demo_seeded,
    seed_demo_clinic,
)
from portal.passwords import verify_password
from portal.secrets_store import SecretStoreError, get_or_create_secret, secret_path
from portal.services import audit_checkpoints

if TYPE_CHECKING:  # the sync code loads only when a command needs it
    from ehr_sync.jobs import SyncOutcome

T = TypeVar("T")

DEMO_SECRET_NAME = "demo_password"  # noqa: S105 - the name of its file, not a password
DEFAULT_DATABASE = PROJECT_ROOT / "var" / "portal.db"


# Demo roles that sign in without an authenticator app (MFA is optional for them).
PATIENT_ROLES = ("patient", "proxy")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        if args.command in golive_cli.COMMANDS:
            return golive_cli.run(args, settings)
        if args.command == "prepare":
            prepare(settings, demo=args.demo)
        elif args.command == "sync":
            return sync(settings, all_jobs=args.all_jobs)
        elif args.command == "demo-ehr":
            return demo_ehr(settings, port=args.port, patients=args.patients, seed=args.seed)
        else:
            seed(settings, patients=args.patients, seed_value=args.seed)
    except CliError as error:
        print(f"Error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except ValidationError as error:
        print(f"Error: a setting is not valid: {_first_line(error)}", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m portal.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prepare_parser = commands.add_parser(
        "prepare", help="migrate the database; seed and show the demo clinic on the demo database"
    )
    choice = prepare_parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="seed the demo clinic into an empty database even if it is not the demo database",
    )
    choice.add_argument(
        "--no-demo", dest="demo", action="store_false", help="never seed the demo clinic"
    )
    seed_parser = commands.add_parser(
        "seed", help="load synthetic patients into DATABASE_URL (for benchmarks)"
    )
    seed_parser.add_argument(
        "--patients", type=_positive, default=None, help="how many (default: DEMO_PATIENTS)"
    )
    seed_parser.add_argument(
        "--seed", type=int, default=None, help="generator seed (default: DEMO_SEED)"
    )
    sync_parser = commands.add_parser(
        "sync",
        help="deliver the outbox and run one EHR sync; exit 1 if it failed (for cron)",
    )
    sync_parser.add_argument(
        "--all-jobs",
        action="store_true",
        help="also send due visit reminders and expire waitlist offers (a full scheduler tick)",
    )
    demo_ehr_parser = commands.add_parser(
        "demo-ehr",
        help="serve the demo clinic from a local FHIR server, for the sync to pull from",
    )
    demo_ehr_parser.add_argument(
        "--port", type=int, default=8103, help="port on 127.0.0.1 (default 8103; 0 = any free)"
    )
    demo_ehr_parser.add_argument(
        "--patients", type=_positive, default=None, help="how many (default: DEMO_PATIENTS)"
    )
    demo_ehr_parser.add_argument(
        "--seed", type=int, default=None, help="generator seed (default: DEMO_SEED)"
    )
    golive_cli.add_commands(commands)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


# --- commands ----------------------------------------------------------------------------------


def prepare(settings: Settings, *, demo: bool | None = None) -> None:
    """Get the portal ready to start; seed the demo clinic once, show its logins every time."""
    _ensure_state_dir(settings)
    engine = _migrated_engine(settings)
    _check_audit_trail(engine, settings)
    with Session(engine, expire_on_commit=False) as session:
        empty = _count_patients(session) == 0
        wanted = demo if demo is not None else is_demo_database(settings)
        if empty and wanted:
            password = demo_password(settings, create=True)
            print(f"Seeding the demo clinic ({settings.demo_patients} synthetic patients) ...")
            started = time.perf_counter()
            seeded = _guarded(
                lambda: seed_demo_clinic(
                    session=session,
                    n_patients=settings.demo_patients,
                    seed=settings.demo_seed,
                    now=datetime.now(UTC),
                    password=password,
                )
            )
            elapsed = time.perf_counter() - started
            print(
                f"Seeded {seeded.report.total:,} FHIR resources through the EHR importer "
                f"in {elapsed:.1f} s ({seeded.report.quarantined} quarantined)."
            )
            activity = seeded.activity
            print(
                f"Portal activity: {activity.templates} weekly hour blocks, "
                f"{activity.bookings} booked visits, {activity.open_inbox_items} requests "
                "waiting in the triage inbox; "
                f"a past year of {activity.past_visits} visits ({activity.past_no_shows} "
                f"no-shows); the scheduler's first tick flags {activity.at_risk} visits "
                "of patients who often miss (no-show model)."
            )
            print(login_block(settings, list(seeded), password))
        elif demo_seeded(session=session):
            logins = demo_logins(session=session)
            print(login_block(settings, logins, _known_demo_password(settings, session)))
        elif empty:
            print(
                "The database has no patients yet. Connect the EHR (set FHIR_BASE_URL and check "
                "it with: python -m portal.cli check-ehr), or load the demo clinic with: "
                "python -m portal.cli prepare --demo"
            )
        if not _has_active_admin(session):
            print(
                "Nobody can sign in yet: create the first administrator with: "
                "python -m portal.cli create-admin"
            )


def _has_active_admin(session: Session) -> bool:
    query = select(User.id).where(User.role == Role.ADMIN, col(User.active).is_(True))
    return session.exec(query).first() is not None


def seed(settings: Settings, *, patients: int | None, seed_value: int | None) -> None:
    """Load synthetic patients into DATABASE_URL and say how long it took."""
    _ensure_state_dir(settings)
    engine = _migrated_engine(settings)
    n_patients = patients or settings.demo_patients
    password = demo_password(settings, create=True)
    with Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        seeded = _guarded(
            lambda: seed_demo_clinic(
                session=session,
                n_patients=n_patients,
                seed=settings.demo_seed if seed_value is None else seed_value,
                now=datetime.now(UTC),
                password=password,
            )
        )
        elapsed = time.perf_counter() - started
    report = seeded.report
    print(
        f"Seeded {n_patients:,} patients: {report.total:,} FHIR resources "
        f"({report.created:,} new, {report.updated:,} updated, {report.quarantined} quarantined) "
        f"in {elapsed:.1f} s, {report.total / max(elapsed, 1e-9):,.0f} resources/s."
    )


def sync(settings: Settings, *, all_jobs: bool = False) -> int:
    """One sync run with counts per resource type; 0 if it succeeded, 1 if not."""
    from ehr_sync import jobs  # the FHIR stack loads only for this command

    _ensure_state_dir(settings)
    _migrated_engine(settings)
    if all_jobs:
        tick = jobs.run_tick(settings=settings)
        print(
            f"Waitlist offers expired: {tick.offers_expired}; visit reminders sent: "
            f"{tick.reminders_sent}."
        )
        if tick.ehr == "not configured":
            raise CliError("No EHR is configured: set FHIR_BASE_URL to sync.", 2)
        if tick.ehr == "busy":
            raise CliError("Another sync is running right now; try again later.", 3)
        if tick.sync is None:
            raise CliError("; ".join(tick.errors) or "The sync failed.")
        outcome = tick.sync
    else:
        try:
            outcome = jobs.sync_once(trigger="cli", settings=settings)
        except jobs.NotConfigured as error:
            raise CliError(f"{error} Set it to sync.", 2) from None
        except jobs.SyncBusy:
            raise CliError("Another sync is running right now; try again later.", 3) from None
    print(sync_report(outcome))
    ok = outcome.result is not None and outcome.result.status == "succeeded"
    return 0 if ok and not outcome.errors else 1


def demo_ehr(
    settings: Settings, *, port: int = 8103, patients: int | None = None, seed: int | None = None
) -> int:
    """Start the local FHIR server, load the demo clinic into it and serve until Ctrl-C."""
    from ehr_sync import demo_ehr as ehr  # node and the FHIR stack only for this command

    n_patients = patients or settings.demo_patients
    print("Starting the demo EHR (a FHIR R4 server on 127.0.0.1, data in memory) ...", flush=True)
    try:
        with ehr.running_server(port=port) as server:
            started = time.perf_counter()
            counts = ehr.load_demo_clinic(
                server.base_url,
                n_patients=n_patients,
                seed=settings.demo_seed if seed is None else seed,
                now=datetime.now(UTC),
            )
            elapsed = time.perf_counter() - started
            block = demo_ehr_block(server.base_url, n_patients, sum(counts.values()), elapsed)
            print(block, flush=True)
            signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops node too, like Ctrl-C
            try:
                server.process.wait()
            except KeyboardInterrupt:
                print("Demo EHR stopped.")
                return 0
            raise CliError(f"The FHIR server stopped by itself (exit {server.process.returncode}).")
    except ehr.DemoEhrError as error:
        raise CliError(str(error)) from None


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def demo_ehr_block(base_url: str, n_patients: int, resources: int, seconds: float) -> str:
    return "\n".join(
        [
            f"Loaded the demo clinic: {n_patients:,} patients, {resources:,} FHIR resources "
            f"in {seconds:.1f} s.",
            "",
            "Demo EHR ready. In another terminal, start the portal with:",
            "",
            f"    export FHIR_BASE_URL={base_url}",
            "    export FHIR_SOURCE=demo   # sync into the seeded demo clinic, not beside it",
            "    export FHIR_PAGE_SIZE=1000   # this server scans a whole type for every page",
            "    scripts/start",
            "",
            'Then Administration > EHR sync > "Sync now", or wait for the scheduler.',
            "Stop with Ctrl-C (the data lives in memory and goes with it).",
        ]
    )


def sync_report(outcome: "SyncOutcome") -> str:
    """The run as a small table: one line per resource type, then the outbox and any errors."""
    result = outcome.result
    if result is None:  # the run never started: only its errors to show
        return "\n".join(f"Error: {e}" for e in outcome.errors) or "The sync did not run."
    names = ("fetched", "created", "updated", "skipped", "quarantined", "deleted")
    lines = [f"EHR sync run {result.run_id}: {result.status} in {result.seconds:.1f} s"]
    # A run that read nothing (the EHR is down) has no table to show, only its one error line.
    if result.status != "failed" or result.total("fetched"):
        lines.append(f"{'type':<20}" + "".join(f"{n:>12}" for n in names))
        for rtype, stats in result.stats.items():
            lines.append(f"{rtype:<20}" + "".join(f"{getattr(stats, n):>12,}" for n in names))
        lines.append(f"{'total':<20}" + "".join(f"{result.total(n):>12,}" for n in names))
    if outcome.delivery is not None:
        d = outcome.delivery
        lines.append(f"Outbox: {d.sent} sent, {d.failed} to retry later, {d.stuck} stuck.")
    lines += [f"Error: {e}" for e in [*result.errors, *outcome.errors]]
    return "\n".join(lines)


# --- the demo database and its password --------------------------------------------------------


def is_demo_database(settings: Settings) -> bool:
    """The default SQLite file, or any SQLite file inside the state folder, holds the demo; a
    database set up elsewhere (PostgreSQL, say) belongs to a clinic and is never seeded unasked."""
    url = _parsed_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return False
    path = Path(url.database).resolve()
    return path == DEFAULT_DATABASE.resolve() or path.is_relative_to(settings.state_dir.resolve())


@overload
def demo_password(settings: Settings, *, create: Literal[True]) -> str: ...
@overload
def demo_password(settings: Settings, *, create: bool) -> str | None: ...
def demo_password(settings: Settings, *, create: bool) -> str | None:
    """DEMO_PASSWORD if set, else the one generated into the state folder on first start."""
    chosen = os.environ.get("DEMO_PASSWORD")
    if chosen:
        return chosen
    path = secret_path(DEMO_SECRET_NAME, state_dir=settings.state_dir)
    if not create and not path.exists():
        return None
    try:
        return get_or_create_secret(DEMO_SECRET_NAME, state_dir=settings.state_dir, nbytes=12)
    except (SecretStoreError, OSError) as error:
        raise CliError(f"Could not keep the demo password in {path.parent}: {error}") from None


def _known_demo_password(settings: Settings, session: Session) -> str | None:
    """The demo password, but only if it still opens the demo accounts (it may have changed)."""
    password = demo_password(settings, create=False)
    user = session.exec(select(User).where(User.username == PATIENT_USERNAME)).first()
    if password and user is not None and verify_password(password, user.password_hash):
        return password
    return None


def login_block(settings: Settings, logins: list[DemoLogin], password: str | None) -> str:
    port = os.environ.get("PORT", "8501")
    width = max((len(login.username) for login in logins), default=8) + 2
    lines = [
        "",
        "=" * 72,
        f"  {settings.clinic_name}: demo clinic (synthetic data, no real patients)",
        f"  Open http://127.0.0.1:{port} and sign in as one of:",
        "",
        f"    {'username'.ljust(width)}{'role'.ljust(12)}who",
    ]
    lines += [
        f"    {login.username.ljust(width)}{login.role.ljust(12)}{login.who}" for login in logins
    ]
    lines.append("")
    if password:
        lines.append(f"  Password (the same for every demo account): {password}")
        if not os.environ.get("DEMO_PASSWORD"):
            kept = secret_path(DEMO_SECRET_NAME, state_dir=settings.state_dir)
            lines.append(f"  (generated on first start, kept in {kept})")
    else:
        lines.append(
            "  Password: the DEMO_PASSWORD set when the demo was seeded (not shown), "
            "unless it was changed since."
        )
    if settings.mfa_required_for_staff and any(login.role not in PATIENT_ROLES for login in logins):
        lines.append(
            "  Staff accounts set up two-step sign-in on their first sign-in: scan the QR code with"
        )
        lines.append("  an authenticator app, or type the key shown under it into the app.")
    lines += ["=" * 72, ""]
    return "\n".join(lines)


# --- plumbing ----------------------------------------------------------------------------------


def _check_audit_trail(engine: Engine, settings: Settings) -> None:
    """Refuse to start without the audit trail's append-only guard; anchor the trail if it is
    there (a checkpoint at every start, outside the database)."""
    with Session(engine, expire_on_commit=False) as session:
        now = datetime.now(UTC)
        if not audit_guard.installed(session.connection()):
            audit_checkpoints.alarm_guard_missing(session, now=now)
            raise CliError(f"REFUSING TO START. {audit_checkpoints.GUARD_MISSING}", 3)
        audit_checkpoints.write_checkpoint(session, now=now, settings=settings)
        session.commit()


def _guarded(seed_call: Callable[[], T]) -> T:
    """Run a seeding step, turning database failures into a plain message."""
    try:
        return seed_call()
    except OperationalError as error:
        message = f"The database stopped answering: {_first_line(error.orig or error)}"
        raise CliError(message, 2) from None
    except SQLAlchemyError as error:
        raise CliError(f"Seeding the demo clinic failed: {_first_line(error)}") from None
    except ValueError as error:  # e.g. too few patients, or a password bcrypt cannot take
        raise CliError(str(error), 2) from None


def _count_patients(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Patient)).one()


if __name__ == "__main__":
    sys.exit(main())
