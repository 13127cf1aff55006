"""The demo EHR: the demo clinic served by the local FHIR server, and a sync pulling it in full."""

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select as sql_select

from db.models import Patient
from ehr_sync.client import FhirClient
from ehr_sync.demo_ehr import demo_resources, load_demo_clinic
from ehr_sync.importer import import_resources
from ehr_sync.sync import run_sync
from portal.config import PROJECT_ROOT
from portal.demo.seed import DEMO_SOURCE, seed_demo_clinic
from tests.sync.helpers import duplicate_rows, stored_counts

PATIENTS = 3  # the demo's minimum: ~800 resources, most of them lab results
SEED = 20261124
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def server_counts(fhir_server, types) -> Counter:
    return Counter({t: fhir_server.search(t, _count=0)["total"] for t in types})


def test_loading_puts_the_demo_clinic_in_the_server_and_a_sync_stores_all_of_it(
    fhir_server, session
):
    loaded = load_demo_clinic(fhir_server.base_url, n_patients=PATIENTS, seed=SEED, now=NOW)

    expected = Counter(r["resourceType"] for r in demo_resources(PATIENTS, seed=SEED, now=NOW))
    assert loaded == expected and loaded["Patient"] == PATIENTS
    assert server_counts(fhir_server, expected) == expected
    with FhirClient(fhir_server.base_url, page_size=100, sleep=lambda _: None) as client:
        result = run_sync(client, session=session)
    # The same resources imported straight from the generator, as the demo seed does.
    direct = import_resources(
        list(demo_resources(PATIENTS, seed=SEED, now=NOW)),
        session=session,
        source="direct",
        now=NOW,
    )

    assert result.status == "succeeded", result.errors
    assert result.total("quarantined") == direct.quarantined == 0
    synced = stored_counts(session, "ehr")
    assert synced == stored_counts(session, "direct")
    assert synced["Patient"] == PATIENTS
    assert {t: n for t, n in synced.items() if n} == dict(expected)
    assert duplicate_rows(session) == 0


def test_sync_from_the_demo_ehr_with_the_demo_source_updates_the_seeded_clinic_in_place(
    fhir_server, session
):
    """What the README tells people to do: FHIR_SOURCE=demo, so no second copy of anyone."""
    seed_demo_clinic(session=session, n_patients=PATIENTS, seed=SEED, now=NOW, password="demo-pw-1")
    before = stored_counts(session, DEMO_SOURCE)
    load_demo_clinic(fhir_server.base_url, n_patients=PATIENTS, seed=SEED, now=NOW)

    with FhirClient(fhir_server.base_url, page_size=100, sleep=lambda _: None) as client:
        result = run_sync(client, session=session, source=DEMO_SOURCE)

    assert result.status == "succeeded", result.errors
    assert result.total("created") == result.total("deleted") == 0
    assert result.total("updated") == sum(before.values())  # now carrying the EHR's versions
    assert stored_counts(session, DEMO_SOURCE) == before
    assert session.exec(sql_select(func.count()).select_from(Patient)).one() == PATIENTS
    assert duplicate_rows(session) == 0


@pytest.mark.fhir_server  # the command starts the FHIR server itself
def test_demo_ehr_command_serves_the_demo_clinic_until_stopped():
    command = [sys.executable, "-m", "portal.cli", "demo-ehr", "--port", "0", "--patients", "3"]
    process = subprocess.Popen(  # noqa: S603
        command,
        cwd=PROJECT_ROOT,
        env={**os.environ, "DEMO_SEED": str(SEED)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    # readline blocks (select would not see lines already buffered): a watchdog bounds it.
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        printed: list[str] = []
        base_url = None
        while base_url is None:
            line = process.stdout.readline()
            assert line, f"demo-ehr stopped early: {printed}"
            printed.append(line)
            if "export FHIR_BASE_URL=" in line:
                base_url = line.split("=", 1)[1].strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/fhir/R4")
        assert any("3 patients" in line for line in printed)
        bundle = httpx.get(f"{base_url}/Patient", params={"_count": 0}).json()
        assert bundle["total"] == 3
        assert httpx.post(f"{base_url}/$reset").status_code >= 400  # never emptied over HTTP
    finally:
        process.send_signal(signal.SIGTERM)  # as Ctrl-C; SIGINT may be ignored in CI jobs
        rest, _ = process.communicate(timeout=30)
        watchdog.cancel()
    assert process.returncode == 0
    assert "Demo EHR stopped." in rest
    with_server_gone = httpx.Client(timeout=2)
    try:
        with_server_gone.get(base_url)
        raise AssertionError("the FHIR server is still running")
    except httpx.TransportError:
        pass
    finally:
        with_server_gone.close()
