"""The one way health-data services log a successful read, so every read has the same shape."""

from datetime import datetime

from sqlmodel import Session

from db.models import User
from portal.services import audit

# Readable audit categories, shown as-is in the access log a patient or admin reads.
VIEWED_HOME = "viewed home overview"
VIEWED_SUMMARY = "viewed health summary"
VIEWED_RESULTS = "viewed test results"
VIEWED_VITALS = "viewed vital signs"
VIEWED_TREND = "viewed result trend"
OPENED_CHART = "opened chart"
SEARCHED_PATIENTS = "searched patients"
# List views: every patient on the list gets an entry, so each sees that staff listed them.
LISTED_IN_TRIAGE = "listed in the triage inbox"
LISTED_IN_REFILLS = "listed in the refill queue"
LISTED_IN_SEARCH = "listed in a patient search"
LISTED_ON_CALENDAR = "listed on the day's calendar"


def log_read(
    user: User,
    patient_id: int | None,
    *,
    session: Session,
    category: str,
    detail: str | None = None,
    now: datetime | None = None,
    action: str = "read",
) -> None:
    """Record and commit a successful read (committed now: a read has no later write to ride on).
    ``action`` names the kind of read where it is not plain "read" ("list": a patient's list)."""
    audit.record(
        session=session,
        actor=user,
        category=category,
        action=action,
        patient_id=patient_id,
        detail=detail,
        now=now,
    )
    session.commit()
