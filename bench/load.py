"""Load bench against the real server: N simulated users click through the portal at once.

Each user is one websocket to the portal (``portal.stream_client``): the same protobuf messages
a browser tab sends, so every click is a real Streamlit script run on the server, with
everything Streamlit does around it (session, widget state, element serialization, its
post-run garbage collection). Users sign in through the sign-in form (staff with a TOTP code),
then click back to back, with no pause, through a fixed mix:

    patients (4 in 5 users): Home, Test results (two Altair charts), Messages, Appointments
    nurses   (1 in 5 users): Triage inbox, Patient lookup (the staff start page)

The stack is started as ``scripts/serve --replicas R`` starts it (Caddy over HTTPS with its
internal CA in front of R replicas), on the PostgreSQL database given, with bench accounts added
to it (bench-patient-K, bench-nurse-K: created once, reused). Loopback only, bounded in users and
seconds. Reported: clicks/s, p50/p95 per page, errors (exceptions drawn on a page, failed or
timed-out runs), and server CPU per click: user+system CPU of the replica processes (and, apart,
of Caddy) from /proc over the click window, divided by the clicks.

    .venv/bin/python -m bench.load --replicas 1 2 4 --users 5 10 --seconds 60 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_load_10000

What it leaves out: JavaScript. The login-cookie component and the 15-second idle-check fragment
run in a browser only; a tab costs the server one extra short run every 15 s that this bench does
not make, and the browser's own drawing time is not in the latencies.
"""

import argparse
import os
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bench.common import PROTECTED_DATABASES, machine_note, percentile
from db.engine import make_engine
from db.models import Patient, Role, User
from portal.config import PROJECT_ROOT
from portal.passwords import hash_password
from portal.serve import StackOptions, free_port, start_stack
from portal.services import mfa
from portal.stream_client import RunFailed, StreamSession, find

BENCH_PASSWORD = "Bench-load-password-1"  # noqa: S105 - loopback bench accounts only
PATIENT_PAGES = ("Home", "Test results", "Messages", "Appointments")
NURSE_PAGES = ("Triage inbox", "Patient lookup")
SIGNED_IN = "Signed in as"


@dataclass
class Account:
    username: str
    role: str
    mfa_secret: str | None = None


@dataclass
class Tally:
    """What every simulated user measured, merged under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    clicks: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sign_ins: list[float] = field(default_factory=list)
    error_notes: list[str] = field(default_factory=list)
    stage: dict[str, str] = field(default_factory=dict)  # username -> where it is, for a hang

    def click(self, page: str, seconds: float) -> None:
        with self.lock:
            self.clicks[page].append(seconds)

    def error(self, page: str, note: str) -> None:
        with self.lock:
            self.errors[page] += 1
            if len(self.error_notes) < 10:
                self.error_notes.append(f"{page}: {note}")


def bench_accounts(database_url: str, users: int) -> list[Account]:
    """Bench accounts (4 patients to 1 nurse), created on first use with a known password and,
    for nurses, a known authenticator secret."""
    nurses = max(1, round(users / 5))
    patients = users - nurses
    engine = make_engine(database_url)
    accounts = []
    password_hash = hash_password(BENCH_PASSWORD)
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        patient_ids = session.exec(select(Patient.id).order_by(Patient.id).limit(patients)).all()
        if len(patient_ids) < patients:
            raise SystemExit(f"The database has {len(patient_ids)} patients; {patients} needed.")
        wanted = [
            (f"bench-patient-{k + 1}", Role.PATIENT, pid) for k, pid in enumerate(patient_ids)
        ]
        wanted += [(f"bench-nurse-{k + 1}", Role.NURSE, None) for k in range(nurses)]
        for username, role, patient_id in wanted:
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None:
                user = User(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    patient_id=patient_id,
                    display_name=username,
                    email=f"{username}@example.com",
                )
                session.add(user)
                session.commit()
            if role == Role.NURSE and not user.mfa_secret:
                secret = mfa.new_secret()
                # Enrolled with the previous time step's code, so this step's code signs in.
                code = pyotp.TOTP(secret).at(now - timedelta(seconds=30))
                mfa.enable(user, secret, code, session=session, now=now)
            accounts.append(Account(username, role, user.mfa_secret))
    engine.dispose()
    return accounts


def sign_in(client: StreamSession, account: Account) -> None:
    form = client.run()
    values = {
        find(form, "Username", "text_input").id: account.username,
        find(form, "Password", "text_input").id: BENCH_PASSWORD,
        find(form, "Sign in", "button").id: True,
    }
    result = client.run(values)
    if account.mfa_secret:
        totp = pyotp.TOTP(account.mfa_secret)
        code = find(result, "Code", "text_input")
        verify = find(result, "Verify", "button")
        result = client.run({code.id: totp.now(), verify.id: True})
    if not any(SIGNED_IN in text for text in result.texts):
        raise RunFailed(f"{account.username} is not signed in: {result.texts[:3]}")


def simulated_user(
    url: str, account: Account, tally: Tally, start: threading.Barrier, stop_at: list[float]
) -> None:
    """Sign in, wait for everyone, then click back to back until the window closes."""
    client = StreamSession(url, verify_tls=False, timeout=120)
    pages = PATIENT_PAGES if account.role == Role.PATIENT else NURSE_PAGES
    try:
        tally.stage[account.username] = "connecting"
        client.open()
        tally.stage[account.username] = "signing in"
        began = time.perf_counter()
        sign_in(client, account)
        tally.sign_ins.append(time.perf_counter() - began)
        tally.stage[account.username] = "signed in"
    except Exception as error:  # noqa: BLE001 - counted and reported, the others go on
        tally.error("sign-in", repr(error))
        start.abort()
        return
    try:
        start.wait()
    except threading.BrokenBarrierError:
        client.close()
        return
    step = 0
    while time.perf_counter() < stop_at[0]:
        page = pages[step % len(pages)]
        step += 1
        try:
            result = client.run(page=page)
        except Exception as error:  # noqa: BLE001 - a failed run is an error, not a crash
            tally.error(page, repr(error))
            try:
                client.close()
                client.open()
                sign_in(client, account)
            except Exception:  # noqa: BLE001
                return
            continue
        if result.exceptions:
            tally.error(page, result.exceptions[0])
        elif page == "Test results" and result.charts == 0:
            tally.error(page, "no chart drawn")
        else:
            tally.click(page, result.seconds)
    client.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (utime and stime from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class RunReport:
    replicas: int
    users: int
    seconds: float
    clicks: dict[str, list[float]]
    errors: dict[str, int]
    sign_in_median: float
    replica_cpu: list[float]
    caddy_cpu: float
    notes: list[str]
    load_average: float = float("nan")  # the machine's 1-minute load at the end of the window

    @property
    def total_clicks(self) -> int:
        return sum(len(v) for v in self.clicks.values())

    def row(self) -> str:
        clicks = self.total_clicks
        per_page = "; ".join(
            f"{page} {statistics.median(times) * 1000:.0f}/{percentile(times, 0.95) * 1000:.0f}"
            for page, times in sorted(self.clicks.items())
            if times
        )
        errors = sum(self.errors.values())
        cpu = sum(self.replica_cpu)
        per_click = cpu / clicks * 1000 if clicks else float("nan")
        spread = "+".join(f"{c:.0f}" for c in self.replica_cpu)
        return (
            f"| {self.replicas} | {self.users} | {clicks / self.seconds:.2f} | {per_page} | "
            f"{errors} | {per_click:.0f} ms ({spread} s) | {self.caddy_cpu:.1f} s | "
            f"{self.sign_in_median:.1f} s | {self.load_average:.1f} |"
        )


TABLE_HEADER = (
    "| replicas | users | clicks/s | p50/p95 per page (ms) | errors | server CPU per click "
    "(CPU s per replica) | Caddy CPU | sign-in p50 | load avg |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def run_once(
    database_url: str, replicas: int, users: int, seconds: float, *, state_dir: Path | None = None
) -> RunReport:
    accounts = bench_accounts(database_url, users)
    env = {
        "DATABASE_URL": database_url,
        "LOGIN_SLEEP_SECONDS": "0",
        # The bench measures clicks; the periodic jobs would add their own load to one replica.
        "SCHEDULER_ENABLED": "false",
    }
    log_dir = (state_dir or PROJECT_ROOT / "var" / "bench") / "load-logs"
    stack = start_stack(
        StackOptions(
            replicas=replicas,
            https_port=free_port(),
            log_dir=log_dir,
            env=env,
            state_dir=state_dir,
        )
    )
    try:
        tally = Tally()
        start = threading.Barrier(len(accounts) + 1)
        stop_at = [float("inf")]
        threads = [
            threading.Thread(
                target=simulated_user, args=(stack.url, account, tally, start, stop_at), daemon=True
            )
            for account in accounts
        ]
        for thread in threads:
            thread.start()
        try:
            start.wait(timeout=300)
        except threading.BrokenBarrierError as error:
            stuck = {name: stage for name, stage in tally.stage.items() if stage != "signed in"}
            raise SystemExit(f"Sign-in failed: {tally.error_notes or stuck}") from error
        pids = [r.process.pid for r in stack.replicas]
        cpu_before = [cpu_seconds(pid) for pid in pids]
        caddy_before = cpu_seconds(stack.caddy.pid)
        began = time.perf_counter()
        stop_at[0] = began + seconds
        for thread in threads:
            thread.join(timeout=seconds + 180)
        elapsed = time.perf_counter() - began
        cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
        caddy = cpu_seconds(stack.caddy.pid) - caddy_before
        load_average = os.getloadavg()[0]
    finally:
        stack.stop()
    return RunReport(
        replicas=replicas,
        users=users,
        seconds=elapsed,
        clicks=dict(tally.clicks),
        errors=dict(tally.errors),
        sign_in_median=statistics.median(tally.sign_ins) if tally.sign_ins else float("nan"),
        replica_cpu=cpu,
        caddy_cpu=caddy,
        notes=tally.error_notes,
        load_average=load_average,
    )


def _check_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("The load bench runs replicas: give a PostgreSQL --database-url.")
    if parsed.database in PROTECTED_DATABASES:
        raise SystemExit(f"Refusing the {parsed.database!r} database: use a bench database.")
    if parsed.host not in ("127.0.0.1", "localhost", None):
        raise SystemExit("The load bench runs on loopback only.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--database-url", required=True, help="PostgreSQL with a seeded clinic")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1])
    parser.add_argument("--users", type=int, nargs="+", default=[5])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    _check_database(args.database_url)
    if max(args.users) > 50 or args.seconds > 600:
        raise SystemExit("Bounded: at most 50 users and 600 seconds per run.")
    print(machine_note(), flush=True)
    rows = []
    for replicas in args.replicas:
        for users in args.users:
            print(f"-- {replicas} replica(s), {users} users, {args.seconds:.0f} s", flush=True)
            report = run_once(args.database_url, replicas, users, args.seconds)
            rows.append(report.row())
            print(report.row(), flush=True)
            for note in report.notes:
                print(f"   error: {note}", flush=True)
    print()
    print(TABLE_HEADER)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
