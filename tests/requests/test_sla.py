from datetime import UTC, datetime

from portal.config import Settings
from portal.services.sla import add_business_hours, due_at

SETTINGS = Settings(clinic_timezone="America/New_York")


def test_due_time_within_the_same_business_day():
    tuesday_10am = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert add_business_hours(tuesday_10am, 4, SETTINGS) == datetime(
        2026, 11, 24, 19, 0, tzinfo=UTC
    )


def test_nights_do_not_count_towards_the_sla():
    tuesday_3pm = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    # 2 hours left on Tuesday, 6 more from Wednesday 8:00 -> Wednesday 14:00 local.
    assert add_business_hours(tuesday_3pm, 8, SETTINGS) == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


def test_message_sent_on_friday_evening_is_due_on_monday():
    friday_8pm = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # Friday 20:00 local
    assert due_at("message", friday_8pm, SETTINGS) == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


def test_unknown_kind_uses_the_default_sla():
    start = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tuesday 8:00 local
    settings = Settings(triage_sla_hours={}, triage_sla_default_hours=10)
    assert due_at("visit_request", start, settings) == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
