"""The one way to show a time to people: stored UTC times as the clinic's local time, in one
clinic-wide style ("Tue 24 Nov 2026, 3:05 PM"; 24-hour "15:05" with CLOCK_HOURS=24).

Pages and components format every date and time through this module (a test scans them for
strftime and date format specs elsewhere); tables use the matching column formats below.
"""

from datetime import date, datetime, time
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


def _day(value: date | datetime, tz: ZoneInfo | None) -> date:
    return local_date(value, tz) if isinstance(value, datetime) else value


def format_date(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """'24 Nov 2026' (birth dates, due dates); a datetime is first moved to clinic time;
    None gives ''."""
    if value is None:
        return ""
    day = _day(value, tz)
    # %-d is not portable (Windows), so the day is formatted by hand.
    return f"{day.day} {day:%b %Y}"


def format_day(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """'Tue 24 Nov 2026': the day something happened or will happen; None gives ''."""
    if value is None:
        return ""
    day = _day(value, tz)
    return f"{day:%a} {format_date(day)}"


def format_clock(value: time, *, clock: int | None = None) -> str:
    """A wall-clock time in the clinic's style: '3:05 PM' (or '15:05' with a 24-hour clock)."""
    if (clock or get_settings().clock_hours) == 24:
        return f"{value:%H:%M}"
    return f"{value.hour % 12 or 12}:{value:%M %p}"


def format_time(moment: datetime, tz: ZoneInfo | None = None, *, clock: int | None = None) -> str:
    """'3:05 PM' (or '15:05') in clinic time."""
    return format_clock(to_local(moment, tz).time(), clock=clock)


def format_datetime(
    moment: datetime | None, tz: ZoneInfo | None = None, *, clock: int | None = None
) -> str:
    """'Tue 24 Nov 2026, 3:05 PM' in clinic time; None gives ''."""
    if moment is None:
        return ""
    return f"{format_day(moment, tz)}, {format_time(moment, tz, clock=clock)}"


def file_stamp(day: date) -> str:
    """'20261124': a date inside a download's file name (sorts by date; not for reading)."""
    return f"{day:%Y%m%d}"


# The same style for st.column_config Date/DatetimeColumn (moment.js tokens).
TABLE_DATE_FORMAT = "D MMM YYYY"


def table_datetime_format(*, clock: int | None = None) -> str:
    """'Tue 24 Nov 2026, 3:05 PM' as a table column format."""
    hours = "HH:mm" if (clock or get_settings().clock_hours) == 24 else "h:mm A"
    return f"ddd D MMM YYYY, {hours}"


def today_local(now: datetime, tz: ZoneInfo | None = None) -> date:
    """The clinic's calendar date at ``now`` (which may differ from the UTC date)."""
    return local_date(now, tz)


def naive_local(moment: datetime | None, tz: ZoneInfo | None = None) -> datetime | None:
    """Clinic wall-clock time without a zone, for tables and charts that must show it as-is
    (a browser would otherwise move an aware time into the viewer's own zone)."""
    return to_local(moment, tz).replace(tzinfo=None) if moment is not None else None
