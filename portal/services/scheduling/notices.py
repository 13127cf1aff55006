"""How scheduling notices name a time. The notices themselves go through
portal.services.notifications.notify (to the Appointments page); their text names only the kind
of visit and the time, and email (see reminders.py) carries even less.
"""

from datetime import datetime


def when(moment: datetime) -> str:
    """'Tue 24 Nov 2026, 3:05 PM' in clinic time, for notices and emails."""
    from portal.config import get_settings

    local = moment.astimezone(get_settings().tz)
    return f"{local:%a} {local.day} {local:%b %Y}, {local.hour % 12 or 12}:{local:%M %p}"
