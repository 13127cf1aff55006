"""A FHIR Bulk Data export on disk, read as if it were the EHR's search API, for ``run_sync``.

``$export`` writes one or more NDJSON files per resource type (``Patient.ndjson``,
``Observation.000.ndjson``, ...), one resource per line. ``NdjsonSource(directory)`` answers the
three calls ``run_sync`` makes of a ``FhirClient``: ``search_pages`` (with ``_lastUpdated=gt...``,
``_id`` and ``_elements=id``), ``count`` and ``retries``, so a whole clinic can be loaded (and
re-synced) from files, far faster than page by page over HTTP.

Reading is cheap where it can be: a first pass finds each line's ``meta.lastUpdated`` with a
byte-level search (no JSON parsing), counts the matches and checks the order; only the lines
newer than the checkpoint are parsed (orjson). Lines are served oldest first, as
``_sort=_lastUpdated`` asks, so the sync's checkpoint never passes a resource it has not stored:
files already in that order are streamed, others are sorted by (time, position) in memory.
When the directory holds the export's ``manifest.json`` (the Bulk Data status answer), its
``transactionTime`` is given as each page's ``meta.lastUpdated``: the server's clock, from which
the next incremental sync starts (the export holds everything changed before it).
The first ``"lastUpdated"`` of a line is taken as the resource's own, which holds for export
files that write ``meta`` before any contained resource (a line without one is always read).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ehr_sync.parsing import UNREADABLE

_LAST_UPDATED = re.compile(rb'"lastUpdated"\s*:\s*"([^"]+)"')
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass
class _Scan:
    """What the first pass learnt about one type's lines newer than ``since``."""

    total: int = 0
    matches: int = 0
    in_order: bool = True
    unstamped: bool = False  # some line has no readable lastUpdated
    first_match: tuple[int, int] | None = None  # (file, offset) of the first stamped match


class NdjsonSource:
    """Read-only stand-in for ``FhirClient`` over a directory of ``$export`` NDJSON files."""

    def __init__(self, directory: str | Path, *, page_size: int = 1000) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"No export directory at {self.directory}")
        self.page_size = page_size
        self.transaction_time = _transaction_time(self.directory / "manifest.json")
        self.retries = 0  # run_sync records how many retries the client made: files need none
        self._totals: dict[str, int] = {}  # lines per type, learnt by any scan

    def close(self) -> None:
        """Nothing to release; here so callers can treat it like a FhirClient."""

    def files(self, resource_type: str) -> list[Path]:
        exact = self.directory / f"{resource_type}.ndjson"
        parts = sorted(self.directory.glob(f"{resource_type}.*.ndjson"))
        return ([exact] if exact.exists() else []) + parts

    # --- the FhirClient calls run_sync makes ---------------------------------------------------

    def search_pages(
        self, resource_type: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Searchset Bundles of up to ``page_size`` resources, oldest ``lastUpdated`` first."""
        params = params or {}
        since = _since(params.get("_lastUpdated"))
        ids = set(str(params["_id"]).split(",")) if params.get("_id") else None
        only_ids = params.get("_elements") == "id"
        page: list[dict[str, Any]] = []
        for resource in self._resources(resource_type, since):
            if ids is not None and resource.get("id") not in ids:
                continue
            if only_ids:
                resource = {"resourceType": resource_type, "id": resource.get("id")}
            page.append(resource)
            if len(page) >= self.page_size:
                yield _bundle(page, self.transaction_time)
                page = []
        if page or ids is not None:
            yield _bundle(page, self.transaction_time)

    def count(self, resource_type: str, params: dict[str, Any] | None = None) -> int:
        """How many resources of the type the export holds (``identifier=system|`` filters)."""
        wanted = (params or {}).get("identifier")
        if not wanted:
            if resource_type not in self._totals:
                self._scan(resource_type, None)
            return self._totals[resource_type]
        system = str(wanted).split("|", 1)[0]
        needle = system.encode()
        total = 0
        for path in self.files(resource_type):
            with path.open("rb") as handle:
                for line in handle:
                    if needle in line and _has_identifier_system(orjson.loads(line), system):
                        total += 1
        return total

    # --- reading ---------------------------------------------------------------------------------

    def _resources(self, resource_type: str, since: datetime | None) -> Iterator[dict[str, Any]]:
        scan = self._scan(resource_type, since)
        if scan.matches == 0:
            return
        files = self.files(resource_type)
        if not scan.in_order:
            yield from self._by_position(resource_type, files, since)
            return
        # In order, the matches are the tail from the first one on: no more times to read.
        first_file, first_offset = scan.first_match or (0, 0)
        check = scan.unstamped or scan.first_match is None
        for index, path in enumerate(files):
            if index < first_file and not check:
                continue
            with path.open("rb") as handle:
                offset = 0
                if index == first_file and not check:
                    offset = handle.seek(first_offset)
                for line in handle:
                    start, offset = offset, offset + len(line)
                    if line.strip() and (not check or _newer(_stamp(line), since)):
                        yield _parse(line, resource_type, path, start)

    def _by_position(
        self, resource_type: str, files: list[Path], since: datetime | None
    ) -> Iterator[dict[str, Any]]:
        """Lines out of time order: note where each match is, sort, and read them in order."""
        positions: list[tuple[datetime, int, int]] = []
        for index, path in enumerate(files):
            with path.open("rb") as handle:
                offset = 0
                for line in handle:
                    start, offset = offset, offset + len(line)
                    if line.strip() and _newer(stamp := _stamp(line), since):
                        positions.append((stamp, index, start))
        positions.sort()
        handles = [path.open("rb") for path in files]
        try:
            for _, index, offset in positions:
                handles[index].seek(offset)
                yield _parse(handles[index].readline(), resource_type, files[index], offset)
        finally:
            for handle in handles:
                handle.close()

    def _scan(self, resource_type: str, since: datetime | None) -> _Scan:
        scan, previous = _Scan(), _OLDEST
        for index, path in enumerate(self.files(resource_type)):
            with path.open("rb") as handle:
                offset = 0
                for line in handle:
                    start, offset = offset, offset + len(line)
                    if not line.strip():
                        continue
                    scan.total += 1
                    stamp = _stamp(line)
                    if stamp == _OLDEST:
                        scan.unstamped = True
                    if stamp < previous:
                        scan.in_order = False
                    previous = max(previous, stamp)
                    if _newer(stamp, since):
                        scan.matches += 1
                        if scan.first_match is None and stamp != _OLDEST:
                            scan.first_match = (index, start)
        self._totals[resource_type] = scan.total
        return scan


def _stamp(line: bytes) -> datetime:
    """The line's meta.lastUpdated, or the oldest time if it has none (always re-read)."""
    found = _LAST_UPDATED.search(line)
    if not found:
        return _OLDEST
    try:
        moment = datetime.fromisoformat(found.group(1).decode())
    except ValueError:
        return _OLDEST
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse(line: bytes, resource_type: str, path: Path, offset: int) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as error:
        # Passed on so the importer quarantines it with the reason and the line kept for review.
        return {
            "resourceType": resource_type,
            UNREADABLE: f"Line {_line_number(path, offset)} of {path.name} is not JSON: {error}",
            "line": line.decode(errors="replace"),
        }


def _line_number(path: Path, offset: int) -> int:
    """The 1-based number of the line starting at ``offset`` (counted only for a bad line)."""
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


def _newer(stamp: datetime, since: datetime | None) -> bool:
    """Whether a line passes the filter; one without a readable time always does."""
    return since is None or stamp == _OLDEST or stamp > since


def _since(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value)
    if not text.startswith("gt"):
        raise ValueError(f"Only _lastUpdated=gt... is supported, not {text!r}")
    moment = datetime.fromisoformat(text[2:])
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bundle(resources: list[dict[str, Any]], transaction_time: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }
    if transaction_time:
        bundle["meta"] = {"lastUpdated": transaction_time}
    return bundle


def _transaction_time(manifest: Path) -> str | None:
    """The export's transactionTime from its manifest, if there is one and it says."""
    try:
        value = orjson.loads(manifest.read_bytes()).get("transactionTime")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _has_identifier_system(resource: Any, system: str) -> bool:
    identifiers = resource.get("identifier") if isinstance(resource, dict) else None
    return any(isinstance(i, dict) and i.get("system") == system for i in identifiers or [])
