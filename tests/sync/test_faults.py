"""The EHR's bad days: faults injected by a proxy in front of the real FHIR server.

Every test runs a whole sync through the proxy and must end where a direct full sync ends: every
resource stored once. Clients come from the portal's own settings (ehr_sync.jobs.make_client) with
short back-off, so retries cost milliseconds, not the production half-minute.
"""

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from db.models import SyncRun
from ehr_sync.auth import AuthError, SmartBackendAuth
from ehr_sync.client import FhirClient
from ehr_sync.jobs import make_client
from ehr_sync.sync import SyncResult, run_sync
from portal.config import Settings
from tests.sync import fhir_data
from tests.sync.fault_proxy import TOKEN_PATH, Fault, FaultProxy, StepClock, TokenIssuer
from tests.sync.fault_proxy import running_proxy as start_proxy
from tests.sync.fhir_server import FhirTestServer
from tests.sync.helpers import duplicate_rows, stored_counts
from tests.sync.keys import key_pair

PATIENTS = 6
PAGE = 10  # 18 Observations: a first page and a next page to break
BASE_PATH = "/fhir/R4"


@pytest.fixture
def proxy(fhir_server: FhirTestServer) -> Iterator[FaultProxy]:
    fhir_server.load(fhir_data.clinic(PATIENTS))
    with start_proxy(fhir_server.base_url) as running:
        yield running


def client_via(proxy: FaultProxy, **settings) -> FhirClient:
    values = {
        "fhir_base_url": proxy.origin + BASE_PATH,
        "fhir_page_size": PAGE,
        "fhir_backoff_max_seconds": 0.05,
        "fhir_timeout_seconds": 10,
        **settings,
    }
    return make_client(Settings(**values))


def assert_complete(session: Session, result: SyncResult, *, retries: int) -> None:
    """What a direct full sync stores: each resource once, the run a success with its retries."""
    assert result.status == "succeeded", result.errors
    assert stored_counts(session) == fhir_data.expected_counts(PATIENTS)
    assert duplicate_rows(session) == 0
    assert session.get(SyncRun, result.run_id).retries >= retries


def test_server_errors_mid_run_are_retried_to_a_complete_result(proxy, session):
    proxy.script(
        Fault("status", match="/Patient?", status=500),
        Fault("status", match="/Observation?", after=1, times=2, status=503),
        Fault("status", match="/DocumentReference?", status=502),
    )
    with client_via(proxy) as client:
        result = run_sync(client, session=session)
    assert proxy.injected("status") == 4
    assert_complete(session, result, retries=4)


def test_429_waits_the_retry_after_the_server_asks_for(proxy, session):
    proxy.script(
        Fault("status", match="/Condition?", status=429, headers={"Retry-After": "1"}),
        Fault("status", match="/Observation?", after=1, status=429, headers={"Retry-After": "1"}),
    )
    # Back-off capped at 2 s: Retry-After is honoured up to that cap.
    with client_via(proxy, fhir_backoff_max_seconds=2) as client:
        result = run_sync(client, session=session)
    assert proxy.injected("status") == 2
    assert proxy.early_retries == 0  # the proxy answers 429 again to a retry that came too soon
    assert_complete(session, result, retries=2)


def test_request_that_outlasts_the_time_out_is_retried(proxy, session):
    proxy.script(Fault("stall", match="/Observation?", after=1))
    with client_via(proxy, fhir_timeout_seconds=1.5) as client:
        result = run_sync(client, session=session)
    assert proxy.injected("stall") == 1
    assert_complete(session, result, retries=1)


def test_connection_dropped_mid_page_is_read_again(proxy, session):
    proxy.script(
        Fault("drop", match="/Patient?"),
        Fault("drop", match="/Observation?", after=1),
    )
    with client_via(proxy) as client:
        result = run_sync(client, session=session)
    assert proxy.injected("drop") == 2
    assert_complete(session, result, retries=2)


def test_every_fault_in_one_run_still_ends_complete_and_once(proxy, session):
    proxy.script(
        Fault("status", match="/Practitioner?", status=500),
        Fault("drop", match="/Patient?"),
        Fault("status", match="/Condition?", status=429, headers={"Retry-After": "0"}),
        Fault("stall", match="/Encounter?"),
        Fault("drop", match="/Observation?", after=1),
        Fault("status", match="/Observation?", after=1, status=504),
    )
    with client_via(proxy, fhir_timeout_seconds=1.5) as client:
        result = run_sync(client, session=session)
        again = run_sync(client, session=session)  # nothing new: everything skipped
    assert sum(f.injected for f in proxy.faults) == 6
    assert_complete(session, result, retries=6)
    assert again.total("created") == again.total("updated") == 0


def test_faults_that_outlast_the_retries_fail_the_type_and_the_next_run_completes(proxy, session):
    proxy.script(Fault("status", match="/Observation?", after=1, times=3, status=500))
    with client_via(proxy, fhir_max_attempts=3) as client:
        broken = run_sync(client, session=session)
        assert broken.status == "partial"
        assert any(e.startswith("Observation") for e in broken.errors)
        assert 0 < stored_counts(session)["Observation"] < 3 * PATIENTS
        healed = run_sync(client, session=session)  # the EHR is back
    assert proxy.injected("status") == 3
    assert_complete(session, healed, retries=0)


# --- SMART Backend Services tokens that lapse mid-run -------------------------------------------


def smart_client(proxy: FaultProxy, clock: StepClock, *, refresh_margin: float) -> FhirClient:
    private_pem, _ = key_pair()
    auth = SmartBackendAuth(
        token_url=proxy.origin + TOKEN_PATH,
        client_id="portal",
        private_key_pem=private_pem,
        key_id="test-key",
        clock=clock,
        refresh_margin=refresh_margin,
    )
    return FhirClient(
        proxy.origin + BASE_PATH,
        auth=auth,
        page_size=PAGE,
        backoff_initial=0.01,
        backoff_max=0.05,
    )


@pytest.fixture
def smart_proxy(fhir_server: FhirTestServer) -> Iterator[tuple[FaultProxy, StepClock]]:
    """The proxy as a SMART EHR: tokens live 60 s, and each FHIR request takes 5 s of its clock,
    so a sync of ~25 requests outlives several tokens."""
    fhir_server.load(fhir_data.clinic(PATIENTS))
    clock = StepClock(step=5.0)
    tokens = TokenIssuer(public_key=key_pair()[1], client_id="portal", clock=clock, lifetime=60)
    with start_proxy(fhir_server.base_url, tokens=tokens) as running:
        running.clock = clock
        yield running, clock


def test_smart_token_is_renewed_before_it_lapses_mid_run(smart_proxy, session):
    proxy, clock = smart_proxy
    with smart_client(proxy, clock, refresh_margin=15) as client:
        result = run_sync(client, session=session)
    assert proxy.tokens.issued >= 3  # several tokens in one run
    assert proxy.tokens.refused == 0  # and never one sent after it lapsed
    assert_complete(session, result, retries=0)


def test_smart_token_revoked_early_gets_a_401_then_a_new_token(smart_proxy, session):
    proxy, clock = smart_proxy
    proxy.tokens.advertised = 3600  # the EHR says an hour but ends each token after 60 s
    with smart_client(proxy, clock, refresh_margin=15) as client:
        result = run_sync(client, session=session)
    assert proxy.tokens.refused >= 2
    assert proxy.tokens.issued == proxy.tokens.refused + 1  # one new token per 401
    assert_complete(session, result, retries=proxy.tokens.refused)


def test_token_endpoint_failing_mid_run_is_retried_like_the_fhir_side(smart_proxy, session):
    proxy, clock = smart_proxy
    proxy.script(Fault("status", match=TOKEN_PATH, after=1, times=2, status=503))
    with smart_client(proxy, clock, refresh_margin=15) as client:
        result = run_sync(client, session=session)
    assert proxy.injected("status") == 2
    assert proxy.tokens.refused == 0
    assert_complete(session, result, retries=2)


def test_token_endpoint_refuses_an_assertion_signed_with_another_key(smart_proxy):
    proxy, clock = smart_proxy
    other = SmartBackendAuth(
        token_url=proxy.origin + TOKEN_PATH,
        client_id="portal",
        private_key_pem=key_pair.__wrapped__()[0],  # a fresh key the EHR does not know
        clock=clock,
    )
    with pytest.raises(AuthError):
        other.headers()
    assert proxy.tokens.issued == 0
