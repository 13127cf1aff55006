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

from bench.common import PROTECTED_DATABASES, backend, machine_note, percentile
from bench.server import parse_tree, rss_mb, start_tree_server
from db.engine import make_engine
from db.models import Patient, Role, User
from pages.results import EMPTY as RESULTS_EMPTY
from portal.config import PROJECT_ROOT
from portal.passwords import hash_password
from portal.serve import StackOptions, free_port, start_stack
from portal.services import mfa
from portal.stream_client import RunFailed, StreamSession, find

BENCH_PASSWORD = "Bench-load-password-1"  # noqa: S105 - loopback bench accounts only
PATIENT_PAGES = ("Home", "Test results", "Messages", "Appointments")
NURSE_PAGES = ("Triage inbox", "Patient lookup")
SIGNED_IN = "Signed in as"
RUN_TIMEOUT_SECONDS = 120  # a click that takes longer is a failed run
SIGN_IN_WAIT_SECONDS = 600  # everyone signed in (50 users on a slow server take minutes)
MAX_USERS = 50
MAX_SECONDS = 3600  # the long memory run is 30 minutes


@dataclass
class Account:
    username: str
    role: str
    mfa_secret: str | None = None
    last_totp_step: int = 0  # a code is accepted once: the next sign-in waits for a new one


@dataclass
class Tally:
    """What every simulated user measured, merged under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    clicks: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sign_ins: list[float] = field(default_factory=list)
    to_home: list[float] = field(default_factory=list)  # "Sign in" pressed -> first page drawn
    error_notes: list[str] = field(default_factory=list)
    stage: dict[str, str] = field(default_factory=dict)  # username -> where it is, for a hang
    # With one user, the server's CPU over each click is that click's: per page, from /proc.
    cpu_pid: int | None = None
    page_cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def click(self, page: str, seconds: float) -> None:
        with self.lock:
            self.clicks[page].append(seconds)

    def error(self, page: str, note: str) -> None:
        with self.lock:
            self.errors[page] += 1
            if len(self.error_notes) < 10:
                self.error_notes.append(f"{page}: {note}")


def _says_no_results(result) -> bool:
    """A patient without results of the view shown (the page builds one view: labs first) is
    told so: no chart, and no error either."""
    return any(text in RESULTS_EMPTY.values() for text in result.texts)


def bench_accounts(database_url: str, users: int) -> list[Account]:
    """Bench accounts (4 patients to 1 nurse), created on first use with a known password and,
    for nurses, a known authenticator secret."""
    nurses = max(1, round(users / 5)) if users > 1 else 0  # one user: a patient
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


def sign_in(client: StreamSession, account: Account) -> float:
    """Sign in through the form; returns the seconds from pressing "Sign in" (and, for staff,
    "Verify") to the signed-in first page."""
    form = client.run()
    values = {
        find(form, "Username", "text_input").id: account.username,
        find(form, "Password", "text_input").id: BENCH_PASSWORD,
        find(form, "Sign in", "button").id: True,
    }
    result = client.run(values)
    submitted = result.seconds
    if account.mfa_secret:
        totp = pyotp.TOTP(account.mfa_secret)
        code = find(result, "Code", "text_input")
        verify = find(result, "Verify", "button")
        while (step := int(time.time() // totp.interval)) <= account.last_totp_step:
            time.sleep(1)  # the same code again would be refused as a replay
        account.last_totp_step = step
        result = client.run({code.id: totp.at(step * totp.interval), verify.id: True})
        submitted += result.seconds
    if not any(SIGNED_IN in text for text in result.texts):
        raise RunFailed(f"{account.username} is not signed in: {result.texts[:3]}")
    return submitted


def simulated_user(
    url: str, account: Account, tally: Tally, start: threading.Barrier, stop_at: list[float]
) -> None:
    """Sign in, wait for everyone, then click back to back until the window closes."""
    client = StreamSession(url, verify_tls=False, timeout=RUN_TIMEOUT_SECONDS)
    pages = PATIENT_PAGES if account.role == Role.PATIENT else NURSE_PAGES
    try:
        tally.stage[account.username] = "connecting"
        client.open()
        tally.stage[account.username] = "signing in"
        began = time.perf_counter()
        cpu_before = cpu_seconds(tally.cpu_pid) if tally.cpu_pid else 0.0
        to_home = sign_in(client, account)
        if tally.cpu_pid:
            tally.page_cpu["(sign-in to Home)"].append(cpu_seconds(tally.cpu_pid) - cpu_before)
        tally.sign_ins.append(time.perf_counter() - began)
        tally.to_home.append(to_home)
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
        cpu_before = cpu_seconds(tally.cpu_pid) if tally.cpu_pid else 0.0
        try:
            result = client.run(page=page)
            if tally.cpu_pid:
                tally.page_cpu[page].append(cpu_seconds(tally.cpu_pid) - cpu_before)
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
        elif page == "Test results" and result.charts == 0 and not _says_no_results(result):
            tally.error(page, "no chart drawn")
        else:
            tally.click(page, result.seconds)
    client.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (utime and stime from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Window:
    """What one click window measured on the server processes given."""

    tally: Tally
    seconds: float
    cpu: list[float]  # CPU seconds per process over the window
    load_average: float
    rss: list[tuple[float, float]]  # (seconds into the window, MB) of the first process

    @property
    def total_clicks(self) -> int:
        return sum(len(v) for v in self.tally.clicks.values())


def click_window(
    url: str,
    accounts: list[Account],
    seconds: float,
    pids: list[int],
    *,
    rss_every: float = 15.0,
) -> Window:
    """Sign every account in (in parallel), then let them click back to back for ``seconds``;
    CPU is read from /proc before and after the window, RSS sampled during it."""
    tally = Tally(cpu_pid=pids[0] if len(accounts) == 1 and len(pids) == 1 else None)
    start = threading.Barrier(len(accounts) + 1)
    stop_at = [float("inf")]
    threads = [
        threading.Thread(
            target=simulated_user, args=(url, account, tally, start, stop_at), daemon=True
        )
        for account in accounts
    ]
    for thread in threads:
        thread.start()
    try:
        start.wait(timeout=SIGN_IN_WAIT_SECONDS)
    except threading.BrokenBarrierError as error:
        stuck = {name: stage for name, stage in tally.stage.items() if stage != "signed in"}
        raise SystemExit(f"Sign-in failed: {tally.error_notes or stuck}") from error
    cpu_before = [cpu_seconds(pid) for pid in pids]
    began = time.perf_counter()
    stop_at[0] = began + seconds
    rss: list[tuple[float, float]] = []
    while any(thread.is_alive() for thread in threads):
        now = time.perf_counter() - began
        if not rss or now - rss[-1][0] >= rss_every:
            rss.append((now, rss_mb(pids[0])))
        if now > seconds + RUN_TIMEOUT_SECONDS + 60:
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - began
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    rss.append((elapsed, rss_mb(pids[0])))
    return Window(tally, elapsed, cpu, os.getloadavg()[0], rss)


def page_summary(clicks: dict[str, list[float]]) -> str:
    return "; ".join(
        f"{page} {statistics.median(times) * 1000:.0f}/{percentile(times, 0.95) * 1000:.0f}"
        for page, times in sorted(clicks.items())
        if times
    )


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
        errors = sum(self.errors.values())
        cpu = sum(self.replica_cpu)
        per_click = cpu / clicks * 1000 if clicks else float("nan")
        spread = "+".join(f"{c:.0f}" for c in self.replica_cpu)
        return (
            f"| {self.replicas} | {self.users} | {clicks / self.seconds:.2f} | "
            f"{page_summary(self.clicks)} | "
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
        pids = [r.process.pid for r in stack.replicas]
        caddy_before = cpu_seconds(stack.caddy.pid)
        window = click_window(stack.url, accounts, seconds, pids)
        caddy = cpu_seconds(stack.caddy.pid) - caddy_before
    finally:
        stack.stop()
    tally = window.tally
    return RunReport(
        replicas=replicas,
        users=users,
        seconds=window.seconds,
        clicks=dict(tally.clicks),
        errors=dict(tally.errors),
        sign_in_median=statistics.median(tally.sign_ins) if tally.sign_ins else float("nan"),
        replica_cpu=window.cpu,
        caddy_cpu=caddy,
        notes=tally.error_notes,
        load_average=window.load_average,
    )


# --- one process per source tree, side by side ---------------------------------------------

TREE_HEADER = (
    "| code | db | users | clicks/s | p50/p95 per page (ms) | errors | server CPU per click | "
    "sign-in: form / to Home p50 (s) | RSS start→end (max) MB | load avg |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


@dataclass
class TreeReport:
    code: str
    db: str
    users: int
    window: Window
    form_seconds: float  # the sign-in form's first run on a fresh connection (warm server)

    def row(self) -> str:
        w, tally = self.window, self.window.tally
        clicks = w.total_clicks
        per_click = w.cpu[0] / clicks * 1000 if clicks else float("nan")
        home = statistics.median(tally.to_home) if tally.to_home else float("nan")
        rss = [mb for _, mb in w.rss]
        return (
            f"| {self.code} | {self.db} | {self.users} | {clicks / w.seconds:.2f} | "
            f"{page_summary(tally.clicks)} | {sum(tally.errors.values())} | "
            f"{per_click:.0f} ms | {self.form_seconds:.2f} / {home:.2f} | "
            f"{rss[0]:.0f}→{rss[-1]:.0f} ({max(rss):.0f}) | {w.load_average:.1f} |"
        )

    def page_cpu(self) -> str:
        """Mean server CPU per click by page (one-user runs only)."""
        cpu = self.window.tally.page_cpu
        return "; ".join(
            f"{page} {statistics.mean(values) * 1000:.0f} ms ({len(values)})"
            for page, values in sorted(cpu.items())
            if values
        )


def form_seconds(url: str) -> float:
    """A fresh tab's first run (the sign-in form), as a new visitor meets it."""
    client = StreamSession(url, timeout=RUN_TIMEOUT_SECONDS).open()
    try:
        return client.run().seconds
    finally:
        client.close()


def sign_in_series(url: str, pid: int, account: Account, times: int) -> str:
    """One user signing in ``times`` times in a row on a warm server (nothing else running on
    it): the form's run, "Sign in" pressed to Home drawn (wall), and the server's CPU for both."""
    form, home, cpu = [], [], []
    for _ in range(times):
        before = cpu_seconds(pid)
        client = StreamSession(url, timeout=RUN_TIMEOUT_SECONDS).open()
        try:
            began = time.perf_counter()
            client.run()
            form.append(time.perf_counter() - began)
            client.close()
            client.open()
            home.append(sign_in(client, account))
        finally:
            client.close()
        cpu.append(cpu_seconds(pid) - before)
    return (
        f"{times} sign-ins: form p50 {statistics.median(form):.2f} s; to Home p50 "
        f"{statistics.median(home):.2f} s (min {min(home):.2f}); server CPU per sign-in (form "
        f"+ password + Home) {statistics.mean(cpu) * 1000:.0f} ms"
    )


def run_trees(
    trees: list[tuple[str, Path]],
    database_url: str,
    users_list: list[int],
    seconds: float,
    *,
    gc_policy: str | dict[str, str] | None = None,
    rss_log: Path | None = None,
    state_dir: Path | None = None,
    sign_ins: int = 0,
) -> list[TreeReport]:
    """Start one server per tree on the database, then for each user count run each tree's
    window in turn (the order alternates, so neither always follows the other)."""
    database_url = absolute_sqlite(database_url)  # the servers run in other folders
    env = {"DATABASE_URL": database_url, "LOGIN_SLEEP_SECONDS": "0", "SCHEDULER_ENABLED": "false"}
    policies = gc_policy if isinstance(gc_policy, dict) else {}
    if isinstance(gc_policy, str):
        env["GC_POLICY"] = gc_policy
    bench_dir = state_dir or PROJECT_ROOT / "var" / "bench"
    accounts_all = bench_accounts(database_url, max(users_list))
    servers = []
    reports = []
    try:
        for name, tree in trees:
            state, logs = bench_dir / "tree-state", bench_dir / "tree-logs"
            tree_env = {**env, **({"GC_POLICY": policies[name]} if name in policies else {})}
            servers.append(start_tree_server(name, tree, tree_env, state, logs))
        patient = next(a for a in accounts_all if a.role == Role.PATIENT)
        for server in servers if sign_ins else []:
            print(f"-- {server.name}: {sign_in_series(server.url, server.pid, patient, sign_ins)}")
        for turn, users in enumerate(users_list):
            accounts = _mix(accounts_all, users)
            order = servers if turn % 2 == 0 else list(reversed(servers))
            for server in order:
                print(f"-- {server.name}, {users} users, {seconds:.0f} s", flush=True)
                form = form_seconds(server.url)
                try:
                    window = click_window(server.url, accounts, seconds, [server.pid])
                except SystemExit as stopped:  # this server could not sign everyone in
                    print(f"| {server.name} | {backend(database_url)} | {users} | {stopped} |")
                    continue
                report = TreeReport(server.name, backend(database_url), users, window, form)
                reports.append(report)
                print(report.row(), flush=True)
                if window.tally.page_cpu:
                    print(f"   CPU per click by page: {report.page_cpu()}", flush=True)
                for note in window.tally.error_notes:
                    print(f"   error: {note}", flush=True)
                if rss_log is not None:
                    with rss_log.open("a") as out:
                        for at, mb in window.rss:
                            out.write(f"{server.name},{users},{at:.0f},{mb:.1f}\n")
    finally:
        for server in servers:
            server.stop()
    return reports


def absolute_sqlite(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return url
    return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string()


def _policies(value: str | None) -> str | dict[str, str] | None:
    """``portal`` / ``streamlit`` for all trees, or ``new=portal,newgc=streamlit``."""
    if not value or "=" not in value:
        return value
    return dict(item.split("=", 1) for item in value.split(","))


def _mix(accounts: list[Account], users: int) -> list[Account]:
    """``users`` accounts, 4 patients to 1 nurse, from the accounts made for the largest run."""
    nurses = [a for a in accounts if a.role == Role.NURSE]
    patients = [a for a in accounts if a.role == Role.PATIENT]
    wanted_nurses = max(1, round(users / 5)) if users > 1 else 0  # one user: a patient
    return patients[: users - wanted_nurses] + nurses[:wanted_nurses]


def _check_database(url: str, *, sqlite_ok: bool = False) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if sqlite_ok:
            return
        raise SystemExit(
            "The load bench runs replicas: give a PostgreSQL --database-url (or --tree)."
        )
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("PostgreSQL or SQLite only.")
    if parsed.database in PROTECTED_DATABASES:
        raise SystemExit(f"Refusing the {parsed.database!r} database: use a bench database.")
    if parsed.host not in ("127.0.0.1", "localhost", None):
        raise SystemExit("The load bench runs on loopback only.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument(
        "--database-url", required=True, help="a seeded clinic: PostgreSQL, or SQLite with --tree"
    )
    parser.add_argument("--replicas", type=int, nargs="+", default=[1])
    parser.add_argument("--users", type=int, nargs="+", default=[5])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="one process per source tree, no proxy (repeat: side by side); e.g. new=. "
        "base=/work/wt/baseline",
    )
    parser.add_argument(
        "--gc-policy",
        help="GC_POLICY (portal or streamlit) for every --tree server, or NAME=POLICY,... per tree",
    )
    parser.add_argument("--rss-log", type=Path, help="append RSS samples (CSV) of --tree runs")
    parser.add_argument(
        "--sign-ins", type=int, default=0, help="first, time this many sign-ins of one user"
    )
    args = parser.parse_args(argv)
    _check_database(args.database_url, sqlite_ok=bool(args.tree))
    if max(args.users) > MAX_USERS or args.seconds > MAX_SECONDS:
        raise SystemExit(f"Bounded: at most {MAX_USERS} users and {MAX_SECONDS} seconds per run.")
    print(machine_note(), flush=True)
    if args.tree:
        trees = [parse_tree(value) for value in args.tree]
        reports = run_trees(
            trees,
            args.database_url,
            args.users,
            args.seconds,
            gc_policy=_policies(args.gc_policy),
            rss_log=args.rss_log,
            sign_ins=args.sign_ins,
        )
        print()
        print(TREE_HEADER)
        print("\n".join(r.row() for r in reports))
        return
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
