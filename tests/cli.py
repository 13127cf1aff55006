"""Run the portal's command line the way an operator does: a separate process, its own env."""

import subprocess
import sys

from portal.config import PROJECT_ROOT


def run_cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m portal.cli ARGS`` with no terminal (stdin closed); output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
