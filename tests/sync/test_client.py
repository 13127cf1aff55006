"""The FHIR client: paging against the real server; retries and auth with scripted responses."""

import httpx
import jwt
import pytest

from ehr_sync.auth import AuthError, BearerAuth, SmartBackendAuth
from ehr_sync.client import (
    EhrUnreachable,
    FhirClient,
    FhirError,
    RetryableError,
    parse_retry_after,
)
from tests.sync import fhir_data
from tests.sync.keys import key_pair


def scripted(responses: list, seen: list | None = None) -> httpx.MockTransport:
    """A transport that answers with each item in turn: a Response, or an exception to raise."""
    replies = iter(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx.MockTransport(handler)


def page(ids: list[str], next_url: str | None = None) -> httpx.Response:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Patient", "id": i}} for i in ids],
        "link": [{"relation": "next", "url": next_url}] if next_url else [],
    }
    return httpx.Response(200, json=bundle)


def test_search_follows_next_links_until_the_last_page(fhir_server):
    fhir_server.load([fhir_data.patient(n) for n in range(45)])
    with FhirClient(fhir_server.base_url, page_size=10) as client:
        pages = list(client.search_pages("Patient"))
    ids = [e["resource"]["id"] for p in pages for e in p["entry"]]
    assert len(pages) == 5
    assert sorted(ids) == sorted(f"pat-{n}" for n in range(45))


def test_count_asks_only_for_the_total(fhir_server):
    fhir_server.load([fhir_data.patient(n) for n in range(7)])
    with FhirClient(fhir_server.base_url) as client:
        assert client.count("Patient") == 7


def test_retries_5xx_and_connection_errors_then_succeeds():
    sleeps: list[float] = []
    transport = scripted(
        [
            httpx.Response(503),
            httpx.RemoteProtocolError("dropped"),
            httpx.ReadTimeout("slow"),
            page(["a"]),
        ]
    )
    client = FhirClient("http://ehr.test/fhir", transport=transport, sleep=sleeps.append)
    assert [p["entry"][0]["resource"]["id"] for p in client.search_pages("Patient")] == ["a"]
    assert len(sleeps) == 3
    assert client.retries == 3


def test_refused_connection_fails_at_once_without_retries():
    sleeps: list[float] = []
    transport = scripted([httpx.ConnectError("[Errno 111] Connection refused"), page(["a"])])
    client = FhirClient("http://ehr.test/fhir", transport=transport, sleep=sleeps.append)
    with pytest.raises(EhrUnreachable, match="http://ehr.test/fhir refused the connection"):
        list(client.search_pages("Patient"))
    assert sleeps == [] and client.retries == 0


def test_retry_after_is_honoured_on_429():
    sleeps: list[float] = []
    transport = scripted([httpx.Response(429, headers={"Retry-After": "7"}), page(["a"])])
    client = FhirClient("http://ehr.test/fhir", transport=transport, sleep=sleeps.append)
    list(client.search_pages("Patient"))
    assert sleeps == [7.0]


def test_backoff_grows_and_is_capped_with_jitter():
    sleeps: list[float] = []
    transport = scripted([httpx.Response(500)] * 5 + [page(["a"])])
    client = FhirClient(
        "http://ehr.test/fhir",
        transport=transport,
        sleep=sleeps.append,
        backoff_initial=1,
        backoff_max=4,
    )
    list(client.search_pages("Patient"))
    assert len(sleeps) == 5
    assert all(0 <= s <= 4 for s in sleeps)


def test_gives_up_after_max_attempts():
    transport = scripted([httpx.Response(502)] * 3)
    client = FhirClient(
        "http://ehr.test/fhir", transport=transport, max_attempts=3, sleep=lambda _: None
    )
    with pytest.raises(RetryableError):
        client.get_json("Patient")


def test_client_errors_are_not_retried():
    transport = scripted([httpx.Response(400, text="bad search")])
    client = FhirClient("http://ehr.test/fhir", transport=transport, sleep=lambda _: None)
    with pytest.raises(FhirError) as error:
        client.get_json("Patient")
    assert error.value.status == 400


def test_next_link_to_another_host_is_kept_on_the_base_origin():
    seen: list[httpx.Request] = []
    transport = scripted(
        [page(["a"], "http://internal:9000/fhir/Patient?_offset=1"), page(["b"])], seen
    )
    client = FhirClient("https://ehr.test/fhir", auth=BearerAuth("secret"), transport=transport)
    list(client.search_pages("Patient"))
    assert seen[1].url.host == "ehr.test"
    assert seen[1].url.params["_offset"] == "1"
    assert seen[1].headers["Authorization"] == "Bearer secret"


def test_parse_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def token_endpoint(public_pem: bytes, issued: list[dict], *, expires_in: int = 300):
    def handler(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        claims = jwt.decode(
            form["client_assertion"],
            public_pem,
            algorithms=["RS384"],
            audience="https://auth.test/token",
            options={"verify_exp": False, "verify_iat": False},
        )
        issued.append({"form": form, "claims": claims})
        return httpx.Response(
            200, json={"access_token": f"tok-{len(issued)}", "expires_in": expires_in}
        )

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_smart_backend_signs_rs384_assertion_and_caches_the_token():
    private_pem, public_pem = key_pair()
    issued: list[dict] = []
    clock = FakeClock()
    auth = SmartBackendAuth(
        token_url="https://auth.test/token",
        client_id="portal",
        private_key_pem=private_pem,
        key_id="k1",
        http=token_endpoint(public_pem, issued),
        clock=clock,
    )
    assert auth.headers() == {"Authorization": "Bearer tok-1"}
    assert auth.headers() == {"Authorization": "Bearer tok-1"}
    form, claims = issued[0]["form"], issued[0]["claims"]
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"].endswith("jwt-bearer")
    assert claims["iss"] == claims["sub"] == "portal"
    assert jwt.get_unverified_header(form["client_assertion"])["alg"] == "RS384"
    assert jwt.get_unverified_header(form["client_assertion"])["kid"] == "k1"


def test_smart_token_is_renewed_before_it_lapses():
    private_pem, public_pem = key_pair()
    issued: list[dict] = []
    clock = FakeClock()
    auth = SmartBackendAuth(
        token_url="https://auth.test/token",
        client_id="portal",
        private_key_pem=private_pem,
        http=token_endpoint(public_pem, issued, expires_in=300),
        clock=clock,
        refresh_margin=60,
    )
    auth.headers()
    clock.now += 230  # 70 s left: still used
    assert auth.headers()["Authorization"] == "Bearer tok-1"
    clock.now += 20  # 50 s left: inside the margin, renewed
    assert auth.headers()["Authorization"] == "Bearer tok-2"


def test_smart_refusal_is_an_auth_error():
    private_pem, _ = key_pair()
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(401)))
    auth = SmartBackendAuth(
        token_url="https://auth.test/token", client_id="x", private_key_pem=private_pem, http=http
    )
    with pytest.raises(AuthError):
        auth.headers()


def test_401_renews_the_token_once_and_retries():
    calls = {"invalidated": 0}

    class CountingAuth(BearerAuth):
        def invalidate(self) -> None:
            calls["invalidated"] += 1

    transport = scripted([httpx.Response(401), page(["a"])])
    client = FhirClient(
        "http://ehr.test/fhir", auth=CountingAuth("t"), transport=transport, sleep=lambda _: None
    )
    assert next(client.search_pages("Patient"))["entry"][0]["resource"]["id"] == "a"
    assert calls["invalidated"] == 1
