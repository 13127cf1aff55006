from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.timefmt import (
    format_date,
    format_datetime,
    format_time,
    naive_local,
    to_local,
    today_local,
)

NEW_YORK = ZoneInfo("America/New_York")


def test_utc_is_shown_as_clinic_time():
    # 02:30 UTC on 25 Nov is still the evening of 24 Nov in New York.
    moment = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    assert format_date(moment, NEW_YORK) == "24 Nov 2026"
    assert format_time(moment, NEW_YORK) == "9:30 PM"
    assert format_datetime(moment, NEW_YORK) == "24 Nov 2026, 9:30 PM"


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
