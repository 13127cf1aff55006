"""Server-side time and SQL statements per key page, by running the real app with AppTest.

    python -m bench.pages --db empty=sqlite:///var/bench/clinic-3.db \\
                          --db 10k=sqlite:///var/bench/clinic-10000.db --runs 40

Each scenario signs in one role (the login gate is replaced by one that trusts the username in
session state, as the page tests do), opens its page, does what the scenario says (pick a test
for its trend, search a name), warms up, then times ``--runs`` reruns of the whole script
(app.py router plus the page: what the server does on every click). The SQL statements of each
timed run are counted with a ``before_cursor_execute`` listener and must be the same on every
database of the comparison. The first ``--db`` is the baseline of the ratios.

Garbage collection (issue 17): AppTest's script runner skips Streamlit's post-run collection, which
cost the real server about half of each click before the portal turned it off. ``--gc`` says what
to charge: ``portal`` (default) is the server's policy now: the start-up heap frozen after the
warm-up and no collection after a run (the server's once-a-minute collection is left out: under
1 ms per minute after the freeze); ``streamlit`` adds a timed ``gc.collect(2)`` after every run
with nothing frozen, as the server paid before. What this bench leaves out either way: the
websocket, the messages' serialization to the browser and the server's per-session bookkeeping;
``bench/load.py`` measures the real server with all of it.
"""

import argparse
import gc
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from bench.common import BENCH_DIR, StatementCounter, backend, machine_note, summary_ms
from components import session_keys as keys
from db.engine import get_engine, session_scope
from db.models import Observation, Patient, User
from portal.config import PROJECT_ROOT, get_settings
from tests.harness import goto, sign_in

A1C = "4548-4"  # LOINC hemoglobin A1c: the showcase patient's trend
DASHBOARD_PAGE = "pages/dashboard.py"
POST_RUN_GC = False  # set by --gc streamlit


@dataclass
class Scenario:
    name: str
    username: str
    page: str
    prepare: Callable[[AppTest, "Context"], None] | None = None
    state: Callable[["Context"], dict] = lambda _ctx: {}


@dataclass
class Context:
    """Ids looked up in each database (they differ between databases)."""

    showcase_id: int
    showcase_family: str
    largest_record_id: int
    largest_record_observations: int
    showcase_observations: int
    patients: int
    showcase_mrn: str


@dataclass
class Result:
    scenario: str
    database: str
    median_ms: float
    p95_ms: float
    statements: list[int] = field(default_factory=list)
    error: str | None = None
    sql_ms: float = 0.0  # median time spent executing SQL in a run


def _select_a1c(at: AppTest, ctx: Context) -> None:
    key = f"{keys.RESULTS_SELECTED_CODE}:laboratory:{ctx.showcase_id}"
    at.selectbox(key=key).set_value(A1C)
    at.run()


def _search_family(at: AppTest, ctx: Context) -> None:
    [box for box in at.text_input if box.label == "Name"][0].set_value(ctx.showcase_family)
    [b for b in at.button if b.label == "Search"][0].click()
    at.run()


def _search_mrn(at: AppTest, ctx: Context) -> None:
    [box for box in at.text_input if box.label == "MRN"][0].set_value(ctx.showcase_mrn)
    [b for b in at.button if b.label == "Search"][0].click()
    at.run()


def _messages_only(at: AppTest, _ctx: Context) -> None:
    # The first item's kind decides what the page renders below the list: keep it the same.
    at.selectbox(key="triage_filter_kind").set_value("message")
    at.run()


SCENARIOS = [
    Scenario("patient: home", "patient", "pages/home.py"),
    Scenario("patient: results + A1c trend", "patient", "pages/results.py", _select_a1c),
    Scenario("patient: messages", "patient", "pages/messages.py"),
    Scenario("patient: appointments", "patient", "pages/appointments.py"),
    Scenario("nurse: triage inbox (all open)", "nurse", "pages/triage_inbox.py"),
    Scenario("nurse: triage inbox, messages", "nurse", "pages/triage_inbox.py", _messages_only),
    Scenario("front desk: lookup by name", "frontdesk", "pages/patient_lookup.py", _search_family),
    Scenario("front desk: lookup by MRN", "frontdesk", "pages/patient_lookup.py", _search_mrn),
    Scenario(
        "clinician: results, largest record",
        "drpatel",
        "pages/results.py",
        state=lambda ctx: {keys.STAFF_OPEN_PATIENT_ID: ctx.largest_record_id},
    ),
    Scenario(
        "clinician: health summary, largest record",
        "drpatel",
        "pages/health_summary.py",
        state=lambda ctx: {keys.STAFF_OPEN_PATIENT_ID: ctx.largest_record_id},
    ),
    Scenario("admin: dashboard", "admin", DASHBOARD_PAGE),
]


def main(argv: list[str] | None = None) -> None:
    # AppTest runs outside a server; Streamlit warns about that on every run.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--db", action="append", required=True, help="label=DATABASE_URL")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default=None, help="run scenarios whose name contains this")
    parser.add_argument("--json", default=None, help="write results here")
    parser.add_argument(
        "--gc",
        choices=["portal", "streamlit"],
        default="portal",
        help="portal: start-up heap frozen, no post-run collection (the server now); "
        "streamlit: a full collection after every run, timed (the server before issue 17)",
    )
    args = parser.parse_args(argv)
    global POST_RUN_GC
    POST_RUN_GC = args.gc == "streamlit"
    print(f"Pages benchmark ({machine_note()}), {args.runs} timed runs per page")
    databases = [tuple(item.split("=", 1)) for item in args.db]
    scenarios = [s for s in SCENARIOS if not args.only or args.only in s.name]
    print(f"GC policy charged: {args.gc}")
    results = run(databases, scenarios, runs=args.runs, warmup=args.warmup)
    print_table(results, [label for label, _ in databases])
    out = args.json or str(BENCH_DIR / "pages.json")
    with open(out, "w") as handle:
        json.dump([asdict(r) for r in results], handle, indent=1)
    print(f"(raw figures in {out})")


def run(
    databases: list[tuple[str, str]], scenarios: list[Scenario], *, runs: int, warmup: int
) -> list[Result]:
    """Each scenario on every database, the timed runs interleaved (run 1 on each database,
    then run 2, ...) so that load from other work on the machine falls on all of them alike."""
    _login_settings()
    contexts = {}
    for label, url in databases:
        _use_database(url)
        contexts[label] = ctx = _context()
        print(
            f"[{label}] {backend(url)}: {ctx.patients:,} patients; showcase patient "
            f"{ctx.showcase_observations} results; largest record "
            f"{ctx.largest_record_observations} results",
            flush=True,
        )
    results = []
    for scenario in scenarios:
        results += measure(scenario, databases, contexts, runs=runs, warmup=warmup)
        for result in results[-len(databases) :]:
            line = result.error or (
                f"median {result.median_ms:6.1f} ms  p95 {result.p95_ms:6.1f} ms  "
                f"SQL time median {result.sql_ms:5.1f} ms  "
                f"statements {sorted(set(result.statements))}"
            )
            print(f"  {scenario.name:<40} {result.database:<8} {line}", flush=True)
    return results


def measure(
    scenario: Scenario,
    databases: list[tuple[str, str]],
    contexts: dict[str, Context],
    *,
    runs: int,
    warmup: int,
) -> list[Result]:
    if not (PROJECT_ROOT / scenario.page).exists():
        error = f"{scenario.page} does not exist (yet)"
        return [Result(scenario.name, label, 0, 0, error=error) for label, _ in databases]
    apps: dict[str, AppTest] = {}
    failed: dict[str, str] = {}
    for label, url in databases:
        _use_database(url)
        try:
            at = _open(scenario, contexts[label])
        except (KeyError, IndexError, AssertionError) as error:  # the page changed under it
            failed[label] = f"scenario failed: {error!r}"
            continue
        for _ in range(warmup):
            at.run()
        if at.exception:
            failed[label] = f"page failed: {at.exception[0].message}"
        apps[label] = at
    if not POST_RUN_GC:
        gc.collect()
        gc.freeze()  # as the server's launcher does after start-up (portal/gc_policy.py)
    times: dict[str, list[float]] = {label: [] for label in apps}
    sql: dict[str, list[float]] = {label: [] for label in apps}
    statements: dict[str, list[int]] = {label: [] for label in apps}
    for _ in range(runs):
        for label, url in databases:
            if label in failed or label not in apps:
                continue
            _use_database(url)
            with StatementCounter(get_engine()) as counter:
                started = time.perf_counter()
                apps[label].run()
                if POST_RUN_GC:
                    gc.collect(2)  # what Streamlit's runner does after a run (postScriptGC)
                times[label].append(time.perf_counter() - started)
            statements[label].append(counter.count)
            sql[label].append(counter.seconds)
    results = []
    for label, _ in databases:
        if label in failed or apps[label].exception:
            error = failed.get(label) or f"page failed: {apps[label].exception[0].message}"
            results.append(Result(scenario.name, label, 0, 0, error=error))
            continue
        median, p95 = summary_ms(times[label])
        sql_ms = summary_ms(sql[label])[0]
        results.append(Result(scenario.name, label, median, p95, statements[label], sql_ms=sql_ms))
    return results


def _open(scenario: Scenario, ctx: Context) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    sign_in(at, scenario.username)  # a real server-side session, checked by the real gate
    for key, value in scenario.state(ctx).items():
        at.session_state[key] = value
    at.run()
    goto(at, scenario.page)
    if scenario.prepare:
        scenario.prepare(at, ctx)
    return at


def print_table(results: list[Result], labels: list[str]) -> None:
    base = labels[0]
    by_key = {(r.scenario, r.database): r for r in results}
    names = list(dict.fromkeys(r.scenario for r in results))
    header = ["page"] + [f"{label} median/p95 ms (SQL)" for label in labels]
    header += [f"{label}/{base}" for label in labels[1:]]
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in names:
        cells = [name]
        for label in labels:
            r = by_key.get((name, label))
            if r is None or r.error:
                cells.append(r.error if r else "-")
            else:
                sql = "/".join(str(n) for n in sorted(set(r.statements)))
                cells.append(f"{r.median_ms:.0f} / {r.p95_ms:.0f} ({sql})")
        first = by_key.get((name, base))
        for label in labels[1:]:
            r = by_key.get((name, label))
            ok = r and first and not r.error and not first.error and first.median_ms
            cells.append(f"{r.median_ms / first.median_ms:.2f}x" if ok else "-")
        print("| " + " | ".join(cells) + " |")


# --- set-up -------------------------------------------------------------------------------


def _login_settings() -> None:
    """A cookie key and no pause after a password: pages run behind the real gate."""
    os.environ.setdefault("COOKIE_KEY", "bench-cookie-key-bench-cookie-key-01")
    os.environ["LOGIN_SLEEP_SECONDS"] = "0"


def _use_database(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()


def _context() -> Context:
    with session_scope() as session:
        showcase = session.exec(
            select(Patient)
            .join(User, User.patient_id == Patient.id)
            .where(User.username == "patient")
        ).one()[0]
        counts = (
            select(Observation.patient_id, func.count().label("n"))
            .group_by(Observation.patient_id)
            .subquery()
        )
        largest, n_largest = session.exec(
            select(counts.c.patient_id, counts.c.n).order_by(counts.c.n.desc()).limit(1)
        ).one()
        n_showcase = session.scalar(
            select(func.count())
            .select_from(Observation)
            .where(Observation.patient_id == showcase.id)
        )
        patients = session.scalar(select(func.count()).select_from(Patient))
    return Context(
        showcase.id,
        showcase.family_name,
        largest,
        n_largest,
        n_showcase,
        patients,
        showcase.mrn or "",
    )


if __name__ == "__main__":
    main()
