"""How the FHIR client authenticates: none, a fixed bearer token, or SMART Backend Services.

SMART Backend Services (client-credentials grant): the client signs a short-lived JWT with its
private key (RS384) and trades it at the token endpoint for an access token. The token is cached
and replaced ``refresh_margin`` seconds before it lapses, so a long import never sends one that
expires on the way; a 401 anyway (the server revoked it early) makes the client ``invalidate`` and
fetch a new one once.
"""

import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

import httpx
import jwt

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 300  # SMART caps client assertions at five minutes


class AuthError(RuntimeError):
    """The token endpoint refused us; retrying will not help until the configuration changes."""


class Auth(Protocol):
    def headers(self) -> dict[str, str]: ...

    def invalidate(self) -> None: ...


class NoAuth:
    def headers(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> None:
        pass


class BearerAuth:
    def __init__(self, token: str) -> None:
        self._token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        pass  # a fixed token cannot be renewed


class SmartBackendAuth:
    """Access tokens from a SMART token endpoint, cached until shortly before they expire."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        private_key_pem: str | bytes,
        key_id: str | None = None,
        scope: str = "system/*.read",
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.private_key = private_key_pem
        self.key_id = key_id
        self.scope = scope
        self.http = http or httpx.Client(timeout=timeout)
        self.clock = clock
        self.refresh_margin = refresh_margin
        self._token: str | None = None
        self._expires_at = 0.0
        # The scheduler and a "sync now" click may share one client from two threads.
        self._lock = threading.Lock()
        self.tokens_fetched = 0

    def client_assertion(self) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_S,
            "jti": uuid.uuid4().hex,  # servers reject a replayed assertion
        }
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(claims, self.private_key, algorithm="RS384", headers=headers)

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self.clock() >= self._expires_at - self.refresh_margin:
                self._fetch_token()
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch_token(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }
        response = self.http.post(self.token_url, data=form)
        if response.status_code in (400, 401, 403):
            raise AuthError(f"token endpoint refused the client ({response.status_code})")
        response.raise_for_status()  # 5xx and 429 surface to the client's retry loop
        body = response.json()
        self._token = body["access_token"]
        self._expires_at = self.clock() + float(body.get("expires_in", 300))
        self.tokens_fetched += 1
