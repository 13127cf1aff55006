"""Can the sync work with this EHR? ``python -m portal.cli check-ehr`` asks and says so plainly.

Two sources, because a CapabilityStatement only says what a server claims: ``/metadata`` (which
resource types it serves, search parameters, ``$export``, security), and three small live searches
with the configured authentication (does a search answer at all, does ``_lastUpdated`` with
``_sort`` work as the incremental sync asks, does a page carry ``link[next]``). A probe's result
wins over the statement. Each finding says whether the sync can work without it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ehr_sync.auth import AuthError
from ehr_sync.client import EhrUnreachable, FhirClient, FhirError, RetryableError, next_link
from ehr_sync.sync import SYNC_TYPES, WRITE_BACK_TYPES

OK = "ok"
MISSING = "missing"
WARNING = "warning"
INFO = "info"
PROBE_SINCE = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class Finding:
    status: str  # ok, missing (the sync cannot work), warning (it works, less well), info
    topic: str
    text: str

    @property
    def blocks_sync(self) -> bool:
        return self.status == MISSING


@dataclass
class EhrCheck:
    base_url: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def sync_can_work(self) -> bool:
        return not any(f.blocks_sync for f in self.findings)

    def add(self, status: str, topic: str, text: str) -> None:
        self.findings.append(Finding(status, topic, text))


# --- the CapabilityStatement (pure) ------------------------------------------------------------


def _server_rest(statement: dict[str, Any]) -> dict[str, Any]:
    rests = statement.get("rest") or []
    return next((r for r in rests if r.get("mode") == "server"), rests[0] if rests else {})


def _codes(items: Iterable[dict[str, Any]] | None, key: str = "code") -> set[str]:
    return {str(item.get(key)) for item in items or [] if item.get(key)}


def _offers_export(rest: dict[str, Any]) -> bool:
    def named_export(operations: list[dict[str, Any]] | None) -> bool:
        return any(
            (op.get("name") or "").lstrip("$") == "export"
            or (op.get("definition") or "").rstrip("/").endswith("export")
            for op in operations or []
        )

    return named_export(rest.get("operation")) or any(
        named_export(r.get("operation")) for r in rest.get("resource") or []
    )


def _security_text(rest: dict[str, Any]) -> str | None:
    security = rest.get("security") or {}
    services = [
        coding.get("code") or coding.get("display")
        for concept in security.get("service") or []
        for coding in concept.get("coding") or []
    ]
    services = [s for s in services if s]
    return ", ".join(services) if services else None


def assess_statement(
    statement: dict[str, Any],
    *,
    needed: Iterable[str] = SYNC_TYPES,
    write_back: Iterable[str] = (),
) -> list[Finding]:
    """What the CapabilityStatement promises, type by type, in plain words."""
    check = EhrCheck(base_url="")
    version = str(statement.get("fhirVersion") or "")
    software = (statement.get("software") or {}).get("name") or "unnamed software"
    if version and not version.startswith("4.0"):
        check.add(
            MISSING,
            "FHIR version",
            f"The server speaks FHIR {version}; the portal reads FHIR R4 (4.0.x).",
        )
    else:
        stated = version or "not stated"
        check.add(OK, "FHIR version", f"FHIR version {stated}; software: {software}.")
    rest = _server_rest(statement)
    resources = {r.get("type"): r for r in rest.get("resource") or [] if r.get("type")}
    common = _codes(rest.get("searchParam"), "name")
    for rtype in needed:
        resource = resources.get(rtype)
        interactions = _codes(resource.get("interaction")) if resource else set()
        if resource is None or "search-type" not in interactions:
            what = "not offered" if resource is None else "offered, but not searchable"
            status = MISSING if rtype == "Patient" else WARNING
            consequence = (
                "nothing can be imported without patients"
                if rtype == "Patient"
                else f"the portal will have no {rtype} records and each sync run will report "
                "an error for them"
            )
            check.add(status, rtype, f"{rtype}: {what} by the server; {consequence}.")
            continue
        params = common | _codes(resource.get("searchParam"), "name")
        note = "" if "_lastUpdated" in params else " (no _lastUpdated declared for it)"
        check.add(OK, rtype, f"{rtype}: searchable{note}.")
        if rtype in write_back and "update" not in interactions:
            check.add(
                WARNING,
                f"{rtype} write-back",
                f"{rtype}: the server does not accept updates (PUT), so the portal cannot send "
                f"its {rtype} changes back; they will wait in the outbox.",
            )
    if _offers_export(rest):
        check.add(OK, "$export", "$export (Bulk Data) is offered.")
    else:
        check.add(
            INFO,
            "$export",
            "$export (Bulk Data) is not offered. The sync does not need it: it pages through "
            "searches, which only makes the first full load of a large clinic slower.",
        )
    security = _security_text(rest)
    if security:
        check.add(INFO, "Security", f"The server declares its security as: {security}.")
    return check.findings


# --- the live checks ---------------------------------------------------------------------------


def check_ehr(
    client: FhirClient,
    *,
    auth_kind: str,
    needed: Iterable[str] = SYNC_TYPES,
    write_back: Iterable[str] = WRITE_BACK_TYPES,
) -> EhrCheck:
    """Reach the EHR with the configured client and report what works and what is missing."""
    check = EhrCheck(base_url=client.base_url)
    try:
        statement = client.get_json("metadata")
    except (RetryableError, EhrUnreachable, FhirError, AuthError, httpx.HTTPError) as error:
        if _unreachable(check, error, auth_kind):
            return check
        statement = None
    if isinstance(statement, dict) and statement.get("resourceType") == "CapabilityStatement":
        check.add(OK, "Connection", "The server answered and sent its CapabilityStatement.")
        check.findings += assess_statement(statement, needed=needed, write_back=write_back)
    else:
        check.add(
            WARNING,
            "CapabilityStatement",
            "The server did not send a CapabilityStatement at /metadata, so only the live "
            "searches below say what works.",
        )
    _probe(check, client, auth_kind)
    return check


def _unreachable(check: EhrCheck, error: Exception, auth_kind: str) -> bool:
    """Record why /metadata failed; True when nothing else can be tried."""
    text = _first_line(error)
    if isinstance(error, AuthError):
        check.add(MISSING, "Authentication", f"The SMART token endpoint refused us: {text}.")
        return True
    if isinstance(error, RetryableError) and "401" in text:
        check.add(MISSING, "Authentication", _refused_text(401, auth_kind))
        return True
    if isinstance(error, EhrUnreachable):  # already says what and where
        check.add(MISSING, "Connection", f"{text}.")
        return True
    if isinstance(error, RetryableError | httpx.HTTPError):
        check.add(MISSING, "Connection", f"Could not reach the EHR: {text}.")
        return True
    return False  # an HTTP error from /metadata alone: the searches may still work


def _refused_text(status: int, auth_kind: str) -> str:
    how = {
        "none": "no credentials are configured (FHIR_AUTH=none)",
        "bearer": "the token in FHIR_BEARER_TOKEN was not accepted",
        "smart": "the SMART access token was not accepted (check FHIR_CLIENT_ID and FHIR_SCOPE)",
    }.get(auth_kind, f"FHIR_AUTH={auth_kind}")
    return f"The EHR refused our search (HTTP {status}): {how}."


def _probe(check: EhrCheck, client: FhirClient, auth_kind: str) -> None:
    """A search, a search by _lastUpdated as the sync sends it, and paging, on Patient."""
    first = _search(check, client, auth_kind, {"_count": 1}, topic="Search")
    if first is None:
        return
    label = "no authentication" if auth_kind == "none" else f"{auth_kind} authentication"
    check.add(OK, "Authentication", f"A Patient search with {label} was answered.")
    incremental = {"_lastUpdated": f"gt{PROBE_SINCE}", "_sort": "_lastUpdated", "_count": 1}
    if _search(check, client, auth_kind, incremental, topic="_lastUpdated") is not None:
        check.add(OK, "_lastUpdated", "Search by _lastUpdated, oldest first, works.")
    total = first.get("total")
    entries = len(first.get("entry") or [])
    if next_link(first):
        check.add(OK, "Paging", "Search results come in pages linked by link[next].")
    elif isinstance(total, int) and total > entries:
        check.add(
            MISSING,
            "Paging",
            f"The server says {total} patients match but sent {entries} and no link to the "
            "next page, so the sync would miss all but the first page.",
        )
    else:
        check.add(
            INFO,
            "Paging",
            "Paging could not be checked: the server holds fewer than two patients.",
        )


def _search(
    check: EhrCheck,
    client: FhirClient,
    auth_kind: str,
    params: dict[str, Any],
    *,
    topic: str,
) -> dict[str, Any] | None:
    try:
        bundle: dict[str, Any] = client.get_json("Patient", params=params)
        return bundle
    except FhirError as error:
        if error.status == 403:
            check.add(MISSING, "Authentication", _refused_text(403, auth_kind))
        elif topic == "_lastUpdated":
            check.add(
                MISSING,
                "_lastUpdated",
                f"Search by _lastUpdated with _sort=_lastUpdated failed (HTTP {error.status}); "
                "the incremental sync asks for exactly that.",
            )
        else:
            check.add(MISSING, "Search", f"A Patient search failed (HTTP {error.status}).")
    except (RetryableError, EhrUnreachable, AuthError, httpx.HTTPError) as error:
        _unreachable(check, error, auth_kind)
    return None


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def report_lines(check: EhrCheck, *, auth_kind: str) -> list[str]:
    """The check as lines for a terminal: one per finding, then the verdict."""
    lines = [f"EHR check of {check.base_url} (authentication: {auth_kind})"]
    lines += [f"  {f.status:<8} {f.text}" for f in check.findings]
    if check.sync_can_work:
        warned = any(f.status == WARNING for f in check.findings)
        lines.append(
            "Result: the sync can work"
            + (", with the warnings above." if warned else ": everything it needs is there.")
        )
    else:
        lines.append('Result: the sync cannot work until what is marked "missing" is fixed.')
    return lines
