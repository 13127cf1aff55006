import ast
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal.config import get_settings
from portal.timefmt import (
    file_stamp,
    format_clock,
    format_date,
    format_datetime,
    format_day,
    format_time,
    naive_local,
    table_datetime_format,
    to_local,
    today_local,
)

NEW_YORK = ZoneInfo("America/New_York")


def test_utc_is_shown_as_clinic_time():
    # 02:30 UTC on 25 Nov is still the evening of 24 Nov in New York.
    moment = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    assert format_date(moment, NEW_YORK) == "24 Nov 2026"
    assert format_time(moment, NEW_YORK) == "9:30 PM"
    assert format_datetime(moment, NEW_YORK) == "Tue 24 Nov 2026, 9:30 PM"


def test_noon_and_midnight():
    assert format_time(datetime(2026, 7, 1, 16, 5, tzinfo=UTC), NEW_YORK) == "12:05 PM"
    assert format_time(datetime(2026, 7, 1, 4, 0, tzinfo=UTC), NEW_YORK) == "12:00 AM"


def test_plain_dates_are_not_shifted():
    assert format_date(date(2026, 3, 5)) == "5 Mar 2026"


def test_missing_values_format_as_empty():
    assert format_date(None) == format_datetime(None) == ""


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        to_local(datetime(2026, 1, 1))


def test_clinic_today_and_naive_local():
    late_evening = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    assert today_local(late_evening, NEW_YORK) == date(2026, 11, 24)
    assert naive_local(late_evening, NEW_YORK) == datetime(2026, 11, 24, 21, 30)
    assert naive_local(None) is None


def test_days_name_the_weekday():
    assert format_day(date(2026, 11, 30)) == "Mon 30 Nov 2026"
    assert format_day(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), NEW_YORK) == "Mon 30 Nov 2026"
    assert format_day(None) == ""


def test_a_24_hour_clinic_sees_24_hour_times_everywhere(monkeypatch):
    moment = datetime(2026, 11, 24, 20, 5, tzinfo=UTC)
    assert format_time(moment, NEW_YORK, clock=24) == "15:05"
    assert format_datetime(moment, NEW_YORK, clock=24) == "Tue 24 Nov 2026, 15:05"
    assert format_clock(time(9, 0), clock=24) == "09:00"
    assert table_datetime_format(clock=24) == "ddd D MMM YYYY, HH:mm"
    # The setting (CLOCK_HOURS) is what pages get when they pass nothing.
    monkeypatch.setenv("CLOCK_HOURS", "24")
    get_settings.cache_clear()
    try:
        assert format_datetime(moment, NEW_YORK) == "Tue 24 Nov 2026, 15:05"
        assert format_clock(time(15, 5)) == "15:05"
    finally:
        get_settings.cache_clear()


def test_the_default_clock_is_12_hours():
    assert format_clock(time(15, 5)) == "3:05 PM"
    assert format_clock(time(0, 30)) == "12:30 AM"
    assert table_datetime_format() == "ddd D MMM YYYY, h:mm A"


def test_file_stamps_sort_by_date():
    assert file_stamp(date(2026, 3, 5)) == "20260305"


# --- one formatter: no page or component formats a time by itself ---------------------------

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = sorted((ROOT / "pages").glob("*.py")) + sorted((ROOT / "components").glob("*.py"))


def _own_time_formatting(path: Path) -> list[str]:
    """strftime calls and f-string date specs ({x:%H:%M}) in one UI module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "strftime":
            found.append(f"{path.name}:{node.lineno}: strftime")
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = ast.unparse(node.format_spec)
            if "%" in spec.replace("%}", "").replace(":.0%", "").strip("f'\"%"):
                found.append(f"{path.name}:{node.lineno}: {spec}")
    return found


def test_pages_and_components_format_times_only_through_timefmt():
    offenders = [hit for path in UI_FILES for hit in _own_time_formatting(path)]
    assert offenders == []


def test_the_scan_finds_a_page_that_formats_its_own_time(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(
        "def f(moment, share):\n"
        "    a = moment.strftime('%H:%M')\n"
        "    b = f'{moment:%d %b}'\n"
        "    return a, b, f'{share:.0%}'\n"
    )
    assert [hit.split(": ", 1)[1] for hit in _own_time_formatting(page)] == [
        "strftime",
        "f'%d %b'",
    ]


# --- one clock: pages and components read the time from portal.clock, which tests can freeze ---


def _own_clock_reads(path: Path) -> list[str]:
    """Lines of one UI module that read the wall clock themselves (datetime.now)."""
    return [
        f"{path.name}:{number}: datetime.now("
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "datetime.now(" in line
    ]


def test_pages_and_components_read_the_time_only_through_the_clock():
    offenders = [hit for path in UI_FILES for hit in _own_clock_reads(path)]
    assert offenders == []


def test_the_scan_finds_a_page_that_reads_the_clock_itself(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(
        "from datetime import UTC, datetime\n"
        "from portal.clock import utcnow\n"
        "def f():\n"
        "    return utcnow(), datetime.now(UTC)\n"
    )
    assert _own_clock_reads(page) == ["page.py:4: datetime.now("]
