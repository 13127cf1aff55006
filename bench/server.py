"""One portal process started from a given source tree, for side-by-side load runs.

``bench.load --tree new=. --tree base=/path/to/a/checkout`` starts one Streamlit process per
tree (``python -m components.launcher`` with that tree as working directory and import path),
each on its own loopback port and state folder, all on the same database, and clicks them in
turn. No proxy: one process is what "clicks per process" measures.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal.serve import free_port
from portal.stream_client import warm_up

START_TIMEOUT_SECONDS = 120


@dataclass
class TreeServer:
    name: str
    tree: Path
    process: subprocess.Popen
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def parse_tree(value: str) -> tuple[str, Path]:
    """``name=path`` (or a bare path, named after its folder)."""
    name, _, path = value.rpartition("=")
    tree = Path(path).resolve()
    if not (tree / "app.py").is_file() or not (tree / "components" / "launcher.py").is_file():
        raise SystemExit(f"{tree} is not a portal checkout (no app.py / components/launcher.py).")
    return name or tree.name, tree


def start_tree_server(
    name: str, tree: Path, env: dict[str, str], state_dir: Path, log_dir: Path
) -> TreeServer:
    """Start the tree's launcher on a free port, wait for its health check and one warm-up run."""
    port = free_port()
    state = state_dir / name
    state.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        **env,
        "STATE_DIR": str(state),
        "PYTHONPATH": str(tree),  # the tree's own modules, never this checkout's
    }
    command = [sys.executable, "-m", "components.launcher"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--server.fileWatcherType", "none"]
    log = (log_dir / f"{name}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our interpreter, the tree's own launcher
        command, env=full_env, cwd=tree, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    server = TreeServer(name=name, tree=tree, process=process, url=url)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"The {name} server stopped at start; see {log.name}.")
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"The {name} server did not answer; see {log.name}.")
            time.sleep(0.5)
        warm_up(url, timeout=START_TIMEOUT_SECONDS)
    except BaseException:
        server.stop()
        raise
    return server


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS from /proc/PID/status), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
