"""How scheduling notices name a time. The notices themselves go through
portal.services.notifications.notify (to the Appointments page); their text names only the kind
of visit and the time, and email (see reminders.py) carries even less.
"""

from datetime import datetime

from portal.timefmt import format_datetime


def when(moment: datetime) -> str:
    """A visit's time for notices and emails, in the clinic's one style (portal/timefmt.py)."""
    return format_datetime(moment)
