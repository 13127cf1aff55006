"""Fixtures for the EHR sync tests: a real FHIR server (Medplum's router, in memory)."""

from collections.abc import Iterator

import pytest

from ehr_sync.client import FhirClient
from tests.sync.fhir_server import FhirTestServer, running_server


@pytest.fixture(scope="session")
def fhir_process() -> Iterator[FhirTestServer]:
    """One server process per test run; start-up loads the R4 definitions, so it is shared."""
    with running_server(default_count=20) as server:
        yield server


@pytest.fixture
def fhir_server(fhir_process) -> FhirTestServer:
    """The shared server, emptied, so each test loads exactly the resources it needs."""
    fhir_process.reset()
    return fhir_process


@pytest.fixture
def fhir_client(fhir_server) -> Iterator[FhirClient]:
    """A client on the test server with small pages, so paging is exercised on little data."""
    with FhirClient(fhir_server.base_url, page_size=25, sleep=lambda _: None) as client:
        yield client
