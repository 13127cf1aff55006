"""Run the portal as scripts/start does (``components.launcher``), on a free port, for a
browser test."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from portal.config import PROJECT_ROOT

START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """The portal's address once it answers its health check; its output goes to ``log_path``."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "components.launcher"]
            + ["--server.port", str(port), "--server.address", "127.0.0.1"]
            # The code under test is the code at start: no hot reload under the browser.
            + ["--server.fileWatcherType", "none"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"The portal did not start; see {log_path}.")
                time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)
