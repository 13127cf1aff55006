"""A real portal process (streamlit run) with a small seeded demo clinic, and real Chromium."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portal.config import PROJECT_ROOT

DEMO_PASSWORD = "E2e-demo-password-1"
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


def _chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = _chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run must install Debian's chromium package.")
        pytest.skip("Chromium is not installed (apt-get install chromium) - browser tests skipped.")
    return path


@pytest.fixture(scope="session")
def portal_url(tmp_path_factory, chromium_executable) -> Iterator[str]:
    """Start the portal exactly as scripts/start does, on a private database and port."""
    state = tmp_path_factory.mktemp("portal-state")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{Path(state) / 'portal.db'}",
        "STATE_DIR": str(state),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "DEMO_PATIENTS": "6",
        "LOGIN_SLEEP_SECONDS": "0",
    }
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "prepare"], env=env, cwd=PROJECT_ROOT, check=True
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py"]
        + ["--server.port", str(port), "--server.address", "127.0.0.1"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("The portal did not start within 60 s.")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def browser_page(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(20_000)
        yield page
        browser.close()
