"""Start the Medplum-based FHIR server in fhir_server/ and talk to it as a test would."""

import os
import select
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from portal.config import PROJECT_ROOT

SERVER_DIR = PROJECT_ROOT / "fhir_server"
START_TIMEOUT_S = 30


def ensure_installed() -> None:
    """npm ci once if node_modules is missing (CI does it up front; this helps a fresh clone)."""
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SERVER_DIR, check=True)


@dataclass
class FhirTestServer:
    """A running server: its base URL and helpers to load, change and delete resources."""

    base_url: str
    process: subprocess.Popen

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def reset(self) -> None:
        with self.client() as http:
            http.post("/$reset").raise_for_status()

    def load(self, resources: Iterable[dict], *, chunk: int = 200) -> None:
        """PUT every resource under its own id (batch Bundles, so loading 500 takes a moment)."""
        resources = list(resources)
        with self.client() as http:
            for start in range(0, len(resources), chunk):
                entries = [
                    {
                        "resource": r,
                        "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
                    }
                    for r in resources[start : start + chunk]
                ]
                bundle = {"resourceType": "Bundle", "type": "batch", "entry": entries}
                response = http.post("/", json=bundle)
                response.raise_for_status()
                statuses = [e["response"]["status"] for e in response.json()["entry"]]
                assert all(s.startswith("2") for s in statuses), statuses

    def put(self, resource: dict) -> dict:
        with self.client() as http:
            response = http.put(f"/{resource['resourceType']}/{resource['id']}", json=resource)
            response.raise_for_status()
            return response.json()

    def read(self, resource_type: str, fhir_id: str) -> dict:
        with self.client() as http:
            response = http.get(f"/{resource_type}/{fhir_id}")
            response.raise_for_status()
            return response.json()

    def delete(self, resource_type: str, fhir_id: str) -> None:
        with self.client() as http:
            http.delete(f"/{resource_type}/{fhir_id}").raise_for_status()

    def search(self, resource_type: str, **params) -> dict:
        with self.client() as http:
            response = http.get(f"/{resource_type}", params=params)
            response.raise_for_status()
            return response.json()


@contextmanager
def running_server(*, default_count: int = 20) -> Iterator[FhirTestServer]:
    """The server on a free 127.0.0.1 port (it picks port 0 and prints the one it got)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed; the sync tests need Node 20+")
    ensure_installed()
    env = {**os.environ, "FHIR_ALLOW_RESET": "1", "FHIR_DEFAULT_COUNT": str(default_count)}
    # --experimental-websocket: @medplum/core touches WebSocket at import time on Node 20.
    process = subprocess.Popen(
        [node, "--experimental-websocket", "server.js", "--port", "0"],
        cwd=SERVER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("listening "):
            raise RuntimeError(f"FHIR server did not start: {line!r}")
        port = int(line.split()[1])
        yield FhirTestServer(f"http://127.0.0.1:{port}/fhir/R4", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
