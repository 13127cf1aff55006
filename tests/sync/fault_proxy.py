"""An HTTP proxy on 127.0.0.1 in front of the real FHIR server, with scripted faults.

Each request is forwarded to the server unless a scripted ``Fault`` claims it: a status (500, 429
with Retry-After), a stall longer than the client's time-out, or a page whose connection is closed
after half of its body. With ``tokens=TokenIssuer(...)`` it is also a SMART Backend Services token
endpoint (``POST /auth/token``, RS384 client assertions) and the FHIR side answers 401 to a missing,
unknown or expired token. Faults are counted by request, never timed, so the tests are not either.
"""

import http.server
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import jwt

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)
TOKEN_PATH = "/auth/token"  # noqa: S105 - a path, not a secret
STALL_CAP_S = 30.0


@dataclass
class Fault:
    """Inject ``kind`` on matching requests: skip the first ``after`` of them, then hit ``times``.

    kind: "status" (answer ``status`` with ``headers``), "stall" (answer nothing until the client
    gives up), "drop" (send the headers and half the body of the real answer, then close).
    ``match`` is a substring of the request's path and query.
    """

    kind: str
    match: str = ""
    after: int = 0
    times: int = 1
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seen: int = 0
    injected: int = 0

    def claims(self, target: str) -> bool:
        if self.match not in target:
            return False
        self.seen += 1
        if self.seen > self.after and self.injected < self.times:
            self.injected += 1
            return True
        return False


class StepClock:
    """Time that moves only when told: the proxy ticks it once per FHIR request it serves."""

    def __init__(self, start: float = 1_800_000_000.0, step: float = 0.0) -> None:
        self.now = start
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def tick(self) -> None:
        with self._lock:
            self.now += self.step


@dataclass
class TokenIssuer:
    """SMART token endpoint: checks the client's signed assertion and issues access tokens.

    ``lifetime`` is how long a token really lives on ``clock``; ``advertised`` is the
    ``expires_in`` told to the client (the default tells the truth; more than the lifetime plays
    an EHR that revokes tokens early).
    """

    public_key: bytes
    client_id: str
    clock: Callable[[], float]
    lifetime: float = 60.0
    advertised: float | None = None
    issued: int = 0
    refused: int = 0  # FHIR requests answered 401
    _expiry: dict[str, float] = field(default_factory=dict)

    def issue(self, form: dict[str, str], audience: str) -> tuple[int, dict]:
        try:
            claims = jwt.decode(
                form.get("client_assertion", ""),
                self.public_key,
                algorithms=["RS384"],
                audience=audience,
                issuer=self.client_id,
                # Checked below on the test's clock, not the wall clock.
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "client_credentials" or claims["exp"] <= self.clock():
            return 400, {"error": "invalid_grant"}
        token = uuid.uuid4().hex
        self._expiry[token] = self.clock() + self.lifetime
        self.issued += 1
        expires_in = self.advertised if self.advertised is not None else self.lifetime
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": expires_in}

    def accepts(self, authorization: str | None) -> bool:
        token = (authorization or "").removeprefix("Bearer ")
        ok = token in self._expiry and self.clock() < self._expiry[token]
        if not ok:
            self.refused += 1
        return ok


class FaultProxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, *, tokens: TokenIssuer | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self.tokens = tokens
        self.faults: list[Fault] = []
        self.clock: StepClock | None = None
        self.forwarded = 0
        self.not_before = 0.0  # monotonic time a 429's Retry-After asked the client to wait for
        self.early_retries = 0  # requests that came sooner: answered 429 again
        self.release = threading.Event()  # ends every stall at shutdown
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def fault_for(self, target: str) -> Fault | None:
        with self._lock:
            return next((f for f in self.faults if f.claims(target)), None)

    def injected(self, kind: str) -> int:
        return sum(f.injected for f in self.faults if f.kind == kind)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as with a real EHR
    server: FaultProxy

    def log_message(self, *_args) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        proxy = self.server
        if self.path == TOKEN_PATH and proxy.tokens is not None:
            fault = proxy.fault_for(self.path)
            if fault is not None and fault.kind == "status":  # the token endpoint has bad days too
                self._send(fault.status, httpx.Response(fault.status, headers=fault.headers))
                return
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            status, answer = proxy.tokens.issue(form, proxy.origin + TOKEN_PATH)
            self._send(status, httpx.Response(status, json=answer))
            return
        if proxy.tokens is not None:
            if proxy.clock is not None:
                proxy.clock.tick()
            if not proxy.tokens.accepts(self.headers.get("Authorization")):
                self._send(401, httpx.Response(401, json={"resourceType": "OperationOutcome"}))
                return
        with proxy._lock:
            early = time.monotonic() < proxy.not_before
            proxy.early_retries += early
        if early:
            self._send(429, httpx.Response(429, headers={"Retry-After": "1"}))
            return
        fault = proxy.fault_for(self.path)
        if fault is not None and fault.kind == "status":
            retry_after = fault.headers.get("Retry-After")
            if retry_after is not None:
                with proxy._lock:
                    proxy.not_before = time.monotonic() + float(retry_after)
            self._send(fault.status, httpx.Response(fault.status, headers=fault.headers))
            return
        if fault is not None and fault.kind == "stall":
            proxy.release.wait(STALL_CAP_S)  # the client times out and retries meanwhile
            self.close_connection = True
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = proxy.upstream.request(self.command, self.path, headers=headers, content=body)
        with proxy._lock:
            proxy.forwarded += 1
        self._send(answer.status_code, answer, drop=fault is not None and fault.kind == "drop")

    def _send(self, status: int, answer: httpx.Response, *, drop: bool = False) -> None:
        content = answer.content
        try:
            self.send_response(status)
            for key, value in answer.headers.items():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-encoding":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if drop:
                self.wfile.write(content[: len(content) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(content)
        except OSError:
            self.close_connection = True  # the client gave up on this connection


@contextmanager
def running_proxy(upstream: str, *, tokens: TokenIssuer | None = None) -> Iterator[FaultProxy]:
    """The proxy on a free port; requests to ``{origin}/fhir/R4/...`` reach ``upstream``'s
    origin with the same path, so the server's next links keep pointing at the proxy."""
    origin = httpx.URL(upstream).copy_with(path="/", query=None)
    proxy = FaultProxy(str(origin).rstrip("/"), tokens=tokens)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.release.set()
        proxy.shutdown()
        proxy.server_close()
        proxy.upstream.close()
        thread.join(timeout=5)
