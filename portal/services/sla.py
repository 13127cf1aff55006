"""Due times for triage items, counted in the clinic's business hours (nights and weekends pause
the clock, so a message sent on Friday evening is not overdue on Saturday morning)."""

from datetime import UTC, datetime, time, timedelta

from portal.config import Settings

URGENT = 1  # TriageItem.priority of an urgent item (1 urgent, 2 normal, 3 low)


def business_hours_for(kind: str, settings: Settings, priority: int = 2) -> float:
    """The SLA for a request, in business hours: the clinic's urgent SLA for an urgent item
    (never later than its kind's), else its kind's."""
    hours = settings.triage_sla_hours.get(kind, settings.triage_sla_default_hours)
    return min(hours, settings.triage_urgent_sla_hours) if priority <= URGENT else hours


def add_business_hours(start: datetime, hours: float, settings: Settings) -> datetime:
    """``start`` plus ``hours`` of open clinic time, returned in UTC."""
    tz = settings.tz
    opens, closes = time(settings.business_hours_start), time(settings.business_hours_end)
    current = start.astimezone(tz)
    remaining = timedelta(hours=hours)
    # A year of days is far more than any SLA needs; the bound only stops a misconfigured
    # clinic (no business days) from looping for ever.
    for _ in range(366):
        day = current.date()
        day_open = datetime.combine(day, opens, tzinfo=tz)
        day_close = datetime.combine(day, closes, tzinfo=tz)
        if day.weekday() in settings.business_days and current < day_close:
            current = max(current, day_open)
            available = day_close - current
            if remaining <= available:
                return (current + remaining).astimezone(UTC)
            remaining -= available
        current = datetime.combine(day + timedelta(days=1), opens, tzinfo=tz)
    return (start + timedelta(hours=hours)).astimezone(UTC)


def due_at(kind: str, created_at: datetime, settings: Settings, priority: int = 2) -> datetime:
    return add_business_hours(created_at, business_hours_for(kind, settings, priority), settings)
