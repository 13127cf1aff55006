"""The one wall clock: the current time, timezone-aware UTC. Services never read it themselves
(they take ``now``); pages, components and column defaults get it here."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
