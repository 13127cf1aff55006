"""In-app notices to a patient's record for scheduling events (offers, reminders).

Rows go into the shared Notification table the home page and inbox already read; the text names
only the kind of visit and time, and email (see reminders.py) carries even less.
"""

from datetime import datetime

from sqlmodel import Session

from db.models import Notification
from portal.timefmt import format_datetime

LINK_PAGE = "pages/appointments.py"


def notify(*, session: Session, patient_id: int, kind: str, text: str, now: datetime) -> None:
    """Add a notice to the session; the caller commits it with the change it announces."""
    session.add(
        Notification(
            patient_id=patient_id, kind=kind, text=text[:500], link_page=LINK_PAGE, created_at=now
        )
    )


def when(moment: datetime) -> str:
    """A visit's time for notices and emails, in the clinic's one style (portal/timefmt.py)."""
    return format_datetime(moment)
