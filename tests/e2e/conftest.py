"""A real portal process (streamlit run) with a small seeded demo clinic, and real Chromium.

Each test gets a fresh browser context (its own cookies) in one Chromium for the whole run, and a
``shot`` helper that saves numbered screenshots under test-output/e2e/<test>/ (gitignored).
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from db.engine import make_engine
from portal.config import PROJECT_ROOT
from tests.e2e.helpers import DEMO_PASSWORD, Authenticator
from tests.e2e.portal_server import serving

SCREENSHOTS = PROJECT_ROOT / "test-output" / "e2e"
EXPECT_TIMEOUT_MS = 30_000
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Portal:
    url: str
    database_url: str


def _chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = _chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run must install Debian's chromium package.")
        pytest.skip("Chromium is not installed (apt-get install chromium) - browser tests skipped.")
    return path


@dataclass(frozen=True)
class PortalState:
    """A prepared (migrated, seeded) portal state: its database and the environment to serve it."""

    database_url: str
    env: dict


@contextmanager
def serve(state: PortalState, log_name: str = "portal-server.log") -> Iterator[Portal]:
    """A freshly started web server on ``state`` (as scripts/start runs it), stopped when the
    block ends."""
    try:
        with serving(state.env, SCREENSHOTS / log_name) as url:
            yield Portal(url=url, database_url=state.database_url)
    except RuntimeError as error:  # it did not start
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def portal_state(tmp_path_factory, chromium_executable) -> PortalState:
    """A private database and state folder with a small demo clinic (portal.cli prepare)."""
    state = tmp_path_factory.mktemp("portal-state")
    database_url = f"sqlite:///{Path(state) / 'portal.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STATE_DIR": str(state),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "DEMO_PATIENTS": "6",
        "LOGIN_SLEEP_SECONDS": "0",
    }
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "prepare"], env=env, cwd=PROJECT_ROOT, check=True
    )
    return PortalState(database_url=database_url, env=env)


@pytest.fixture(scope="session")
def portal(portal_state) -> Iterator[Portal]:
    """The portal most browser tests share, started once for the run."""
    with serve(portal_state) as running:
        yield running


@pytest.fixture(scope="session")
def portal_url(portal: Portal) -> str:
    return portal.url


@pytest.fixture(scope="session")
def portal_db(portal: Portal) -> Iterator[Engine]:
    """The e2e server's own database, for fixtures that prepare state and tests that age it."""
    engine = make_engine(portal.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def authenticators() -> dict[str, Authenticator]:
    """Staff authenticator apps by username: MFA is enrolled once per server, on first sign-in."""
    return {}


@pytest.fixture(scope="session")
def browser(chromium_executable):
    from playwright.sync_api import expect, sync_playwright

    # The first run of a page in a fresh server imports the whole app: more than expect's 5 s on
    # a busy two-core machine. Waits still end as soon as the content shows.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


def _folder_for(node) -> Path:
    return SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name)


@pytest.fixture
def browser_page(browser, request):
    """A page in a fresh context (no cookies); a failing test leaves a screenshot of its end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    if getattr(request.node, "e2e_failed", False):
        folder = _folder_for(request.node)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / "failed.png")
    context.close()


@pytest.fixture
def shot(request) -> Callable:
    """``shot(page, "step")`` saves test-output/e2e/<test>/<NN>-<step>.png."""
    folder = _folder_for(request.node)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    steps = iter(range(1, 100))

    def take(page, step: str) -> Path:
        path = folder / f"{next(steps):02d}-{step}.png"
        page.screenshot(path=path)
        return path

    return take
