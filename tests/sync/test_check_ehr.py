"""check-ehr: what the configured EHR offers the sync, in plain words, with an honest exit code.

Against the real FHIR server (fhir_server/), a port nobody listens on, and, for what that server
always gets right, small stand-in servers (httpx.MockTransport) that get one thing wrong.
"""

import os

import httpx
import pytest

from ehr_sync.check import MISSING, OK, WARNING, assess_statement, check_ehr, report_lines
from ehr_sync.client import FhirClient
from tests.cli import run_cli
from tests.sync import fhir_data

REFUSED_URL = "http://127.0.0.1:9/fhir/R4"  # the discard port: nothing listens there


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FHIR_")}
    return env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}", "STATE_DIR": str(tmp_path)}


def test_check_against_the_real_fhir_server_says_the_sync_can_work(fhir_server, cli_env):
    fhir_server.load(fhir_data.clinic(2))

    done = run_cli("check-ehr", env=cli_env | {"FHIR_BASE_URL": fhir_server.base_url})

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.splitlines()[0] == f"EHR check of {fhir_server.base_url} (authentication: none)"
    for rtype in ("Patient", "Observation", "DocumentReference", "ServiceRequest"):
        assert f"ok       {rtype}: searchable." in out
    assert "ok       Search by _lastUpdated, oldest first, works." in out
    assert "ok       Search results come in pages linked by link[next]." in out
    assert "info     $export (Bulk Data) is not offered." in out
    assert "ok       A Patient search with no authentication was answered." in out
    assert out.rstrip().endswith("Result: the sync can work: everything it needs is there.")


def test_check_against_a_server_that_refuses_connections_exits_1(cli_env):
    done = run_cli("check-ehr", env=cli_env | {"FHIR_BASE_URL": REFUSED_URL})

    assert done.returncode == 1
    assert f"missing  The EHR at {REFUSED_URL} refused the connection" in done.stdout
    assert 'the sync cannot work until what is marked "missing" is fixed' in done.stdout
    assert "Traceback" not in done.stderr


def test_check_without_an_ehr_configured_says_so(cli_env):
    done = run_cli("check-ehr", env=cli_env)

    assert done.returncode == 2
    assert "No EHR is configured (FHIR_BASE_URL is not set)." in done.stderr


def test_bearer_auth_without_a_token_is_reported_as_configuration(cli_env):
    env = cli_env | {"FHIR_BASE_URL": REFUSED_URL, "FHIR_AUTH": "bearer"}

    done = run_cli("check-ehr", env=env)

    assert done.returncode == 2
    assert "FHIR_AUTH is bearer but FHIR_BEARER_TOKEN is not set." in done.stderr


def test_paging_is_uncheckable_on_a_server_with_one_patient(fhir_server):
    fhir_server.load(fhir_data.clinic(1))

    with FhirClient(fhir_server.base_url, max_attempts=1) as client:
        result = check_ehr(client, auth_kind="none")

    assert result.sync_can_work
    paging = next(f for f in result.findings if f.topic == "Paging")
    assert paging.text.startswith("Paging could not be checked")


# --- the CapabilityStatement alone -------------------------------------------------------------


def _statement(resources: dict[str, list[str]], **extra) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "fhirVersion": "4.0.1",
        "rest": [
            {
                "mode": "server",
                "resource": [
                    {
                        "type": rtype,
                        "interaction": [{"code": c} for c in codes],
                        "searchParam": [{"name": "_lastUpdated", "type": "date"}],
                    }
                    for rtype, codes in resources.items()
                ],
                **extra,
            }
        ],
    }


def _by_topic(findings):
    return {f.topic: f for f in findings}


def test_a_type_the_server_lacks_is_named_and_patient_lacking_blocks_the_sync():
    findings = _by_topic(
        assess_statement(
            _statement({"Patient": ["read"], "Observation": ["search-type"]}),
            needed=["Patient", "Observation", "Immunization"],
        )
    )

    assert findings["Patient"].status == MISSING
    assert "offered, but not searchable" in findings["Patient"].text
    assert findings["Immunization"].status == WARNING
    assert findings["Immunization"].text.startswith("Immunization: not offered by the server;")
    assert findings["Observation"].status == OK


def test_write_back_types_need_updates_and_export_and_security_are_named():
    statement = _statement(
        {"Patient": ["search-type"], "Appointment": ["search-type", "read"]},
        operation=[{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/export"}],
        security={"service": [{"coding": [{"code": "SMART-on-FHIR"}]}]},
    )

    findings = _by_topic(
        assess_statement(statement, needed=["Patient", "Appointment"], write_back=["Appointment"])
    )

    assert findings["Appointment write-back"].status == WARNING
    assert "does not accept updates (PUT)" in findings["Appointment write-back"].text
    assert (findings["$export"].status, findings["$export"].text) == (
        OK,
        "$export (Bulk Data) is offered.",
    )
    assert "SMART-on-FHIR" in findings["Security"].text


def test_a_server_of_another_fhir_version_cannot_be_synced():
    statement = _statement({"Patient": ["search-type"]}) | {"fhirVersion": "3.0.2"}

    findings = _by_topic(assess_statement(statement, needed=["Patient"]))

    assert findings["FHIR version"].status == MISSING


# --- live probes against stand-in servers ------------------------------------------------------


def _client(handler) -> FhirClient:
    return FhirClient(
        "http://ehr.test/fhir", transport=httpx.MockTransport(handler), max_attempts=1
    )


def _bundle(total: int, entries: int, *, next_page: bool) -> dict:
    next_url = "http://ehr.test/fhir/Patient?page=2"
    links = [{"relation": "next", "url": next_url}] if next_page else []
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [{"resource": {"resourceType": "Patient", "id": str(i)}} for i in range(entries)],
    }


def _server(*, metadata=None, search=None, last_updated=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/metadata"):
            return metadata or httpx.Response(200, json=_statement({"Patient": ["search-type"]}))
        if "_lastUpdated" in request.url.params and last_updated is not None:
            return last_updated
        return search or httpx.Response(200, json=_bundle(5, 1, next_page=True))

    return handler


def test_a_server_that_rejects_last_updated_cannot_sync_incrementally():
    rejected = httpx.Response(400, json={"resourceType": "OperationOutcome"})

    with _client(_server(last_updated=rejected)) as client:
        result = check_ehr(client, auth_kind="none", needed=["Patient"], write_back=[])

    assert not result.sync_can_work
    finding = _by_topic(result.findings)["_lastUpdated"]
    assert finding.status == MISSING and "(HTTP 400)" in finding.text


def test_a_server_without_next_links_would_lose_all_but_the_first_page():
    one_page = httpx.Response(200, json=_bundle(40, 1, next_page=False))

    with _client(_server(search=one_page)) as client:
        result = check_ehr(client, auth_kind="none", needed=["Patient"], write_back=[])

    assert not result.sync_can_work
    assert "says 40 patients match but sent 1" in _by_topic(result.findings)["Paging"].text


def test_a_rejected_bearer_token_is_named_as_the_problem():
    def handler(request):
        return httpx.Response(401, json={"resourceType": "OperationOutcome"})

    with _client(handler) as client:
        result = check_ehr(client, auth_kind="bearer")

    assert not result.sync_can_work
    assert [f.text for f in result.findings] == [
        "The EHR refused our search (HTTP 401): the token in FHIR_BEARER_TOKEN was not accepted."
    ]


def test_a_server_without_a_capability_statement_is_judged_by_the_searches():
    not_there = httpx.Response(404, json={"resourceType": "OperationOutcome"})

    with _client(_server(metadata=not_there)) as client:
        result = check_ehr(client, auth_kind="none")

    lines = report_lines(result, auth_kind="none")
    assert result.sync_can_work
    assert lines[1].startswith("  warning  The server did not send a CapabilityStatement")
    assert lines[-1] == "Result: the sync can work, with the warnings above."
