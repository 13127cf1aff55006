"""A small FHIR R4 REST client over httpx: time-outs, retries with back-off, paging by link[next].

Not retried: a refused connection (nothing listens at the address: the EHR is down or the
address is wrong). It raises EhrUnreachable at once, and the sync stops there with one message
instead of retrying every request of every type for minutes.

Retried: dropped connections, time-outs, a connection dropped mid-body, 429 and 5xx (honouring
``Retry-After``), one 401 after renewing the token, and the same faults at the SMART token
endpoint. Everything else (400, 404, ...) is the caller's to handle: retrying would only repeat it.
"""

import email.utils
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from ehr_sync.auth import Auth, NoAuth

FHIR_JSON = "application/fhir+json"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryableError(Exception):
    """A failure worth another try; ``retry_after`` is the server's requested pause, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EhrUnreachable(Exception):
    """Nothing accepts connections at the EHR's address; retrying now will not help."""


class FhirError(Exception):
    """The server answered with an error that retrying will not fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC).timestamp()
    return max(0.0, when.timestamp() - current)


class _WaitRetryAfterOrBackoff:
    """Wait what the server asked for (capped), else exponential back-off with full jitter."""

    def __init__(self, *, initial: float, maximum: float) -> None:
        self.backoff = wait_random_exponential(multiplier=initial, max=maximum)
        self.maximum = maximum

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableError) and error.retry_after is not None:
            return min(error.retry_after, self.maximum)
        return self.backoff(state)


class FhirClient:
    def __init__(
        self,
        base_url: str,
        *,
        auth: Auth | None = None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        page_size: int = 100,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth or NoAuth()
        self.page_size = page_size
        self.max_attempts = max_attempts
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": FHIR_JSON},
        )
        self._wait = _WaitRetryAfterOrBackoff(initial=backoff_initial, maximum=backoff_max)
        self._sleep = sleep
        self.retries = 0  # how many retries this client has made (shown in run records)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "FhirClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- requests -----------------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request with retries. Returns the response for 2xx/3xx/4xx (except 401/429)."""
        retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        return retrying(self._attempt, method, self._absolute(url), **kwargs)

    def _count_retry(self, _state: RetryCallState) -> None:
        self.retries += 1

    def _attempt(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **self._auth_headers()}
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
            response.read()  # a connection dropped mid-body fails here, inside the retry
        except httpx.ConnectError as error:
            raise EhrUnreachable(
                f"The EHR at {self.base_url} refused the connection ({error})"
            ) from error
        except httpx.TransportError as error:  # read, time-out, protocol errors
            raise RetryableError(f"{type(error).__name__}: {error}") from error
        if response.status_code == 401:
            # Expired or revoked early: renew and try again (as a retry, so it is bounded).
            self.auth.invalidate()
            raise RetryableError("401 Unauthorized", retry_after=0)
        if response.status_code in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableError(f"HTTP {response.status_code}", retry_after=retry_after)
        return response

    def _auth_headers(self) -> dict[str, str]:
        """The token endpoint's bad days are retried like the FHIR server's; an AuthError (the
        client refused) is not: it stays refused until the configuration changes."""
        try:
            return self.auth.headers()
        except httpx.TransportError as error:
            raise RetryableError(f"token endpoint: {type(error).__name__}: {error}") from error
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            if status not in RETRY_STATUSES:
                raise
            retry_after = parse_retry_after(error.response.headers.get("Retry-After"))
            raise RetryableError(
                f"token endpoint: HTTP {status}", retry_after=retry_after
            ) from error

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.request("GET", url, params=params)
        if response.status_code >= 400:
            raise FhirError(response.status_code, response.text[:500])
        try:
            body: dict[str, Any] = response.json()
        except ValueError as error:
            # A body cut short can still arrive as a complete HTTP message from a broken proxy.
            raise FhirError(response.status_code, f"not JSON: {error}") from error
        return body

    def read(self, resource_type: str, fhir_id: str) -> dict[str, Any] | None:
        """The current version, or None if the server says it is gone (404/410)."""
        response = self.request("GET", f"{resource_type}/{fhir_id}")
        if response.status_code in (404, 410):
            return None
        if response.status_code >= 400:
            raise FhirError(response.status_code, response.text[:500])
        resource: dict[str, Any] = response.json()
        return resource

    # --- search -------------------------------------------------------------------------------

    def search_pages(
        self, resource_type: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Each searchset Bundle page in turn, following link[next] until there is none."""
        query = {"_count": self.page_size, **(params or {})}
        bundle = self.get_json(resource_type, params=query)
        while True:
            yield bundle
            next_url = next_link(bundle)
            if next_url is None:
                return
            bundle = self.get_json(next_url)

    def count(self, resource_type: str, params: dict[str, Any] | None = None) -> int:
        """How many resources match, without fetching them (_count=0 asks only for total)."""
        bundle = self.get_json(resource_type, params={**(params or {}), "_count": 0})
        return int(bundle.get("total") or 0)

    def _absolute(self, url: str) -> str:
        if url.startswith(("http://", "https://")):
            return self._same_origin(url)
        return f"{self.base_url}/{url.lstrip('/')}"

    def _same_origin(self, url: str) -> str:
        """Keep the base URL's scheme and host for server-made links: a server behind a proxy
        may name an internal host, and our token must never go anywhere but the base URL."""
        base, link = urlsplit(self.base_url), urlsplit(url)
        if (link.scheme, link.netloc) == (base.scheme, base.netloc):
            return url
        return urlunsplit((base.scheme, base.netloc, link.path, link.query, ""))


def next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if link.get("relation") == "next" and link.get("url"):
            url: str = link["url"]
            return url
    return None


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The matches of a searchset page (not _include'd extras, not OperationOutcome notes)."""
    resources = []
    for entry in bundle.get("entry") or []:
        if (entry.get("search") or {}).get("mode", "match") != "match":
            continue
        resource = entry.get("resource")
        if resource is not None:
            resources.append(resource)
    return resources
