"""Two replicas on PostgreSQL behind the real Caddy over HTTPS (its internal CA): a crash of the
replica that holds a patient's tab loses nothing the patient sees or sent, and the scheduler's
leadership moves to the survivor within one tick, one leader at a time.

The stack is started as ``scripts/serve --replicas 2`` starts it (portal.serve.start_stack), on a
private PostgreSQL schema with a small demo clinic and a scheduler tick of a few seconds.
"""

import hashlib
import hmac
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from db.engine import make_engine
from ehr_sync.locks import _NAMESPACE
from ehr_sync.scheduler import LEADER_LOCK_NAME
from portal.config import get_settings
from portal.proxy import STICKY_COOKIE
from portal.serve import Replica, Stack, StackOptions, free_port, replica_name, start_stack
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.helpers import (
    DEMO_PASSWORD,
    PATIENT_HOME,
    expect_confirmation,
    open_page,
    settled,
    sign_in,
)

pytestmark = pytest.mark.browser

TICK_SECONDS = 6
# The scheduler's first tick comes 30 s after a replica's first run (FIRST_TICK_DELAY).
FIRST_LEADER_WITHIN = 75


@dataclass
class ReplicaStack:
    stack: Stack
    engine: Engine
    schema: str


def _needs(what: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: .ci/run must provide it.")
    pytest.skip(f"{what} is not available: the replica fail-over test is skipped.")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, chromium_executable) -> Iterator[ReplicaStack]:
    base_url = os.environ.get("TEST_DATABASE_URL", "")
    _needs("PostgreSQL (TEST_DATABASE_URL)", base_url.startswith("postgresql"))
    _needs("Caddy (apt-get install caddy)", shutil.which("caddy") is not None)
    schema = f"cp_replicas_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database_url = (
        make_url(base_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    state = tmp_path_factory.mktemp("replica-state")
    env = {
        "DATABASE_URL": database_url,
        "STATE_DIR": str(state),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "DEMO_PATIENTS": "6",
        "LOGIN_SLEEP_SECONDS": "0",
        "SYNC_INTERVAL_MINUTES": str(TICK_SECONDS / 60),
        "SCHEDULER_ENABLED": "true",  # tests/conftest.py turns it off for in-process tests
    }
    stack = start_stack(
        StackOptions(
            replicas=2,
            https_port=free_port(),
            state_dir=state,
            log_dir=SCREENSHOTS / "replicas",
            env=env,
            prepare_args=("--demo",),
        )
    )
    engine = make_engine(database_url)
    try:
        yield ReplicaStack(stack=stack, engine=engine, schema=schema)
    finally:
        stack.stop()
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def leaders(engine: Engine, schema: str) -> list[str]:
    """application_name of every connection holding this portal's scheduler lock."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :ns "
                    "AND l.objid = (hashtext(:key))::oid AND l.objsubid = 2"
                ),
                {"ns": _NAMESPACE, "key": f"{LEADER_LOCK_NAME}@{schema}"},
            ).scalars()
        )


@dataclass
class LeaderWatch:
    """Samples the lock holders twice a second for the whole test."""

    engine: Engine
    schema: str
    samples: list[tuple[float, list[str]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), leaders(self.engine, self.schema)))
            self._stop.wait(0.5)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)


def wait_for_leader(engine, schema, *, within: float, other_than: str | None = None) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        holders = leaders(engine, schema)
        if len(holders) == 1 and holders[0] != other_than:
            return holders[0]
        time.sleep(0.2)
    raise AssertionError(f"no new scheduler leader within {within:.0f} s: {holders}")


class Sockets(list):
    """The page's websockets in the order it opened them, each watched from its first frame for
    the server's word that a script run finished (a listener added later could miss it)."""

    def __init__(self) -> None:
        super().__init__()
        self.finished: list[list[bool]] = []

    def opened(self, socket) -> None:
        finished: list[bool] = []

        def on_frame(payload) -> None:
            if isinstance(payload, bytes | bytearray):
                message = ForwardMsg()
                message.ParseFromString(bytes(payload))
                kind = message.WhichOneof("type")
                if kind == "script_finished" and message.script_finished == 0:
                    finished.append(True)

        socket.on("framereceived", on_frame)
        self.finished.append(finished)
        self.append(socket)


def wait_for_finished_run(page, sockets: Sockets, *, index: int, within: float = 45) -> None:
    """Wait until websocket ``sockets[index]`` exists and the server said on it that a script
    run finished (a ForwardMsg script_finished, read from the frames the browser received)."""
    deadline = time.monotonic() + within
    while len(sockets) <= index and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert len(sockets) > index, "the page did not open a new websocket"
    while not sockets.finished[index] and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert sockets.finished[index], "no script run finished on the new websocket"


def wait_for_cookie(context, name: str, within: float = 30) -> dict:
    """The cookie once the login component wrote it (polled from the browser context: the page's
    CSP refuses the string evaluation that page.wait_for_function would use)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for cookie in context.cookies():
            if cookie["name"] == name:
                return cookie
        time.sleep(0.2)
    raise AssertionError(f"the browser never got the {name} cookie")


def sticky_cookie_for(replica: Replica) -> str:
    """Caddy's lb_policy cookie value for an upstream: HMAC-SHA256 of its address (no secret)."""
    return hmac.new(b"", replica.address.encode(), hashlib.sha256).hexdigest()


def test_security_headers_and_https_through_the_proxy(replicas):
    response = httpx.get(replicas.stack.url, verify=False)  # noqa: S501 - Caddy's test CA
    assert response.status_code == 200
    assert response.url.scheme == "https"
    headers = response.headers
    assert headers["strict-transport-security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


def test_crash_of_the_tabs_replica_keeps_the_patient_signed_in_and_moves_the_scheduler(
    replicas, browser, shot
):
    stack, engine, schema = replicas.stack, replicas.engine, replicas.schema
    by_name = {replica_name(r.port): r for r in stack.replicas}
    watch = LeaderWatch(engine, schema)
    try:
        leader_name = wait_for_leader(engine, schema, within=FIRST_LEADER_WITHIN)
        leader = by_name[leader_name]
        survivor = next(r for r in stack.replicas if r is not leader)

        # The tab goes to the leader's replica (the proxy's sticky cookie says which), so its
        # crash tests both fail-overs at once.
        context = browser.new_context(
            ignore_https_errors=True, viewport={"width": 1280, "height": 900}
        )
        context.add_cookies(
            [{"name": STICKY_COOKIE, "value": sticky_cookie_for(leader), "url": stack.url}]
        )
        page = context.new_page()
        sockets = Sockets()
        page.on("websocket", sockets.opened)
        refused = []  # what the Content-Security-Policy blocked
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        sign_in(page, stack.url, "patient")
        expect(page.get_by_text(PATIENT_HOME)).to_be_visible()
        auth = wait_for_cookie(context, get_settings().cookie_name)
        assert auth["secure"], "the login cookie must be Secure behind HTTPS"
        sticky = next(c for c in context.cookies() if c["name"] == STICKY_COOKIE)
        assert sticky["value"] == sticky_cookie_for(leader), "the proxy moved the tab"

        # Under the proxy's CSP the charts still draw (Vega without eval).
        open_page(page, "Test results")
        chart = page.locator(".vega-embed").first
        expect(chart.locator("svg, canvas").first).to_be_attached()
        open_page(page, "Messages")
        page.get_by_test_id("stExpander").get_by_text("Write a new message").click()
        subject = f"Before the crash {uuid.uuid4().hex[:8]}"
        page.get_by_label("Subject", exact=True).fill(subject)
        page.get_by_label("Message", exact=True).fill("Sent while the first replica was alive.")
        page.get_by_role("button", name="Send message").click()
        expect_confirmation(page, "Sent. The clinic will reply here")
        settled(page)
        shot(page, "sent-on-first-replica")
        assert len(sockets) == 1 and not sockets[0].is_closed()

        leader.process.send_signal(signal.SIGKILL)  # a crash: no goodbye to anyone
        killed_at = time.monotonic()
        leader.process.wait(timeout=10)

        # The tab's websocket was on the killed replica; the page opens a new one (to the
        # survivor), which signs the tab in again from the cookie alone.
        deadline = time.monotonic() + 30
        while not sockets[0].is_closed() and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert sockets[0].is_closed(), "the killed replica did not hold the tab"
        # Until the new session's first run ends, the page still shows the old one's elements.
        wait_for_finished_run(page, sockets, index=1)
        settled(page)
        expect(page.get_by_role("heading", name="Messages")).to_be_visible()
        expect(page.get_by_role("heading", name=subject)).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_label("Username", exact=True)).to_have_count(0)
        assert not sockets[1].is_closed()
        shot(page, "reconnected-to-survivor")

        # The survivor took over the periodic jobs at its next tick.
        new_leader = wait_for_leader(
            engine, schema, within=TICK_SECONDS + 5, other_than=leader_name
        )
        took = time.monotonic() - killed_at
        assert new_leader == replica_name(survivor.port)
        assert took <= TICK_SECONDS + 3, f"leadership moved after {took:.1f} s"

        # A new tab (the survivor never saw this browser sign in) is signed in by its cookie.
        second = context.new_page()
        second.goto(stack.url)
        expect(second.get_by_text(PATIENT_HOME)).to_be_visible()
        open_page(second, "Messages")
        expect(second.get_by_role("heading", name=subject)).to_be_visible()
        shot(second, "new-tab-on-survivor")
        context.close()
        time.sleep(2 * TICK_SECONDS)  # the survivor stays the one leader over more ticks
    finally:
        watch.stop()

    # The only thing the policy refuses: the page icon from Google's font server.
    assert all("fonts.gstatic.com" in text for text in refused), refused
    counts = [len(holders) for _, holders in watch.samples]
    assert max(counts) == 1, "two replicas held the scheduler lock at once"
    after = [holders for at, holders in watch.samples if at > killed_at + TICK_SECONDS + 3]
    assert after and all(h == [replica_name(survivor.port)] for h in after)
    before = [holders for at, holders in watch.samples if at < killed_at and holders]
    assert before and all(h == [leader_name] for h in before)
