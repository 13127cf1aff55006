"""The demo EHR: the demo clinic's FHIR record served by the local FHIR server in fhir_server/.

``python -m portal.cli demo-ehr`` (scripts/demo-ehr) starts Medplum's FHIR router under node on
127.0.0.1, loads the demo generator's resources into it and prints the FHIR_BASE_URL to set, so
the scheduler and the admin page's "Sync now" pull the demo clinic from a real FHIR server. The
server keeps everything in memory: stopping it forgets the data.
"""

import os
import select
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from portal.config import PROJECT_ROOT
from portal.demo.generator import clinic_bundles

SERVER_DIR = PROJECT_ROOT / "fhir_server"
DEFAULT_PORT = 8103
BASE_PATH = "/fhir/R4"
START_TIMEOUT_S = 60  # start-up loads the R4 definitions: a few seconds on a busy machine
LOAD_CHUNK = 200  # resources per batch Bundle


class DemoEhrError(Exception):
    """Why the demo EHR could not start or load, in one plain sentence."""


@dataclass
class DemoEhr:
    base_url: str
    process: subprocess.Popen[str]


def ensure_installed() -> None:
    """npm ci once, when fhir_server/node_modules is missing (a fresh clone)."""
    if (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise DemoEhrError("npm is not installed; the demo EHR needs Node.js 20 or newer.")
    print("Installing the FHIR server's packages (npm ci, first use only) ...", flush=True)
    try:
        subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [npm, "ci", "--no-audit", "--no-fund"], cwd=SERVER_DIR, check=True
        )
    except subprocess.CalledProcessError as error:
        raise DemoEhrError(f"npm ci failed in {SERVER_DIR} (exit {error.returncode}).") from None


@contextmanager
def running_server(
    *, port: int = DEFAULT_PORT, default_count: int = 100, quiet: bool = False
) -> Iterator[DemoEhr]:
    """The FHIR server on 127.0.0.1:``port`` (0 = any free port), stopped on exit."""
    node = shutil.which("node")
    if node is None:
        raise DemoEhrError("node is not installed; the demo EHR needs Node.js 20 or newer.")
    ensure_installed()
    env = {**os.environ, "FHIR_DEFAULT_COUNT": str(default_count)}
    env.pop("FHIR_ALLOW_RESET", None)  # nobody may empty the demo EHR over HTTP
    # --experimental-websocket: @medplum/core touches WebSocket at import time on Node 20.
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        [node, "--experimental-websocket", "server.js", "--port", str(port)],
        cwd=SERVER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    try:
        output = process.stdout
        if output is None:  # never: stdout is a PIPE; this tells the type checker
            raise DemoEhrError("The FHIR server started without its output pipe.")
        ready, _, _ = select.select([output], [], [], START_TIMEOUT_S)
        line = output.readline() if ready else ""
        if not line.startswith("listening "):
            raise DemoEhrError(
                f"The FHIR server did not start on port {port} (is the port in use? "
                "choose another with --port)."
            )
        actual = int(line.split()[1])
        yield DemoEhr(f"http://127.0.0.1:{actual}{BASE_PATH}", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def demo_resources(n_patients: int, *, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """The demo clinic's resources, as the demo seed imports them (same seed, same record)."""
    for bundle in clinic_bundles(n_patients, seed=seed, now=now, patients_per_bundle=4):
        for entry in bundle["entry"]:
            yield entry["resource"]


def load_demo_clinic(
    base_url: str, *, n_patients: int, seed: int, now: datetime, http: httpx.Client | None = None
) -> Counter[str]:
    """PUT every demo resource under its own id; the count per resource type loaded."""
    counts: Counter[str] = Counter()
    own = http is None
    http = http or httpx.Client(timeout=120)
    try:
        for chunk in _chunks(demo_resources(n_patients, seed=seed, now=now), LOAD_CHUNK):
            _put_batch(http, base_url, chunk)
            counts.update(r["resourceType"] for r in chunk)
    finally:
        if own:
            http.close()
    return counts


def _put_batch(http: httpx.Client, base_url: str, resources: list[dict[str, Any]]) -> None:
    entries = [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in resources
    ]
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": entries}
    try:
        response = http.post(base_url, json=bundle)
    except httpx.HTTPError as error:
        raise DemoEhrError(f"Could not reach the FHIR server at {base_url}: {error}") from None
    if response.status_code >= 400:
        raise DemoEhrError(f"The FHIR server refused a batch ({response.status_code}).")
    answers = response.json().get("entry") or []
    if len(answers) != len(resources):
        raise DemoEhrError("The FHIR server did not answer every entry of a batch.")
    for resource, entry in zip(resources, answers, strict=True):
        status = str((entry.get("response") or {}).get("status", ""))
        if not status.startswith("2"):
            name = f"{resource['resourceType']}/{resource['id']}"
            raise DemoEhrError(f"The FHIR server refused {name} ({status or 'no status'}).")


def _chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
