"""Show stored UTC times as the clinic's local time, in one date style ("24 Nov 2026")."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from portal.config import get_settings


def clinic_tz() -> ZoneInfo:
    return get_settings().tz


def to_local(moment: datetime, tz: ZoneInfo | None = None) -> datetime:
    """The same instant on the clinic's wall clock (aware, in the clinic zone)."""
    if moment.tzinfo is None:
        # Storage is always aware UTC; a naive value is a bug upstream, and guessing its zone
        # would show a wrong time to a patient.
        raise ValueError("expected a timezone-aware datetime")
    return moment.astimezone(tz or clinic_tz())


def local_date(moment: datetime, tz: ZoneInfo | None = None) -> date:
    return to_local(moment, tz).date()


def format_date(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """'24 Nov 2026'; a datetime is first moved to clinic time; None gives ''."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value, tz)
    # %-d is not portable (Windows), so the day is formatted by hand.
    return f"{value.day} {value:%b %Y}"


def format_time(moment: datetime, tz: ZoneInfo | None = None) -> str:
    """'3:05 PM' in clinic time."""
    local = to_local(moment, tz)
    return f"{local.hour % 12 or 12}:{local:%M %p}"


def format_datetime(moment: datetime | None, tz: ZoneInfo | None = None) -> str:
    """'24 Nov 2026, 3:05 PM' in clinic time; None gives ''."""
    if moment is None:
        return ""
    return f"{format_date(moment, tz)}, {format_time(moment, tz)}"


def today_local(now: datetime, tz: ZoneInfo | None = None) -> date:
    """The clinic's calendar date at ``now`` (which may differ from the UTC date)."""
    return local_date(now, tz)


def naive_local(moment: datetime | None, tz: ZoneInfo | None = None) -> datetime | None:
    """Clinic wall-clock time without a zone, for tables and charts that must show it as-is
    (a browser would otherwise move an aware time into the viewer's own zone)."""
    return to_local(moment, tz).replace(tzinfo=None) if moment is not None else None
