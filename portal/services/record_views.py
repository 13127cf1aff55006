"""Who looked at a patient's record, in plain words: one sentence per staff member and day
("Ana Lee (clinician) looked at your test results and messages on Mon 30 Nov 2026.").

The audit log's categories are the clinic's words ("triage", "listed in the refill queue");
a patient reads what was looked at, never how the clinic files it. The reading itself is
``audit_log.who_viewed`` (access checked there, and the look at the log audited)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from db.models import User
from portal.services.audit_log import RecordView, who_viewed
from portal.timefmt import format_day, local_date

# What a category means to the patient, after "looked at your ...".
LOOKED_AT: dict[str, str] = {
    "opened chart": "chart",
    "viewed home overview": "home page",
    "viewed health summary": "health summary",
    "viewed test results": "test results",
    "viewed result trend": "test results",
    "viewed vital signs": "vital signs",
    "viewed procedures, devices, imaging and social history": "health history",
    "viewed care plan": "care plan",
    "viewed preventive care": "screenings and vaccines",
    "viewed referrals": "referrals",
    "referrals": "referrals",
    "viewed health goals": "health goals",
    "goals": "health goals",
    "viewed home readings": "home readings",
    "readings": "home readings",
    "reading alerts": "home readings",
    "viewed alert thresholds": "home readings",
    "messages": "messages",
    "refills": "medication requests",
    "triage": "requests to the clinic",
    "profile": "contact details",
    "notifications": "updates",
    "appointments": "visits",
    "viewed waitlist": "visits",
    "viewed visit requests": "visits",
    "viewed missed visits": "visits",
    "viewed no-show risk": "visits",
    "checkin": "visit check-in answers",
    "downloaded record": "whole record (downloaded)",
    "opened a document": "documents",
}
# Lists where staff saw the patient's name among others', after "saw your name ...".
SAW_NAME: dict[str, str] = {
    "listed in the triage inbox": "in the clinic's list of requests",
    "listed in the refill queue": "in the clinic's list of medication requests",
    "listed in a patient search": "in a patient search",
    "listed on the day's calendar": "on the day's visit calendar",
}
ROLE_WORDS: dict[str, str] = {
    "clinician": "clinician",
    "nurse": "nurse",
    "front_desk": "front desk",
    "front desk": "front desk",
    "admin": "clinic administrator",
}
SOMETHING_ELSE = "record"  # a category this table does not know yet: still said, plainly


@dataclass(frozen=True)
class ViewDay:
    """One staff member's looks at the record on one clinic day."""

    day: date
    staff_name: str
    role: str
    looked_at: tuple[str, ...]
    saw_name: tuple[str, ...]
    times: int
    first: datetime
    last: datetime

    def sentence(self, whose: str = "your") -> str:
        parts = []
        if self.looked_at:
            parts.append(f"looked at {whose} {_and(self.looked_at)}")
        if self.saw_name:
            name = "your name" if whose == "your" else "the name"
            parts.append(f"saw {name} {_and(self.saw_name)}")
        return f"{self.staff_name} ({self.role}) {_and(parts)} on {format_day(self.day)}."


def _and(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _unique(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(words))


def group_views(views: list[RecordView]) -> list[ViewDay]:
    """The views grouped by clinic day and staff member, newest day first; within a day, the
    person who looked last comes first."""
    groups: dict[tuple[date, object], list[RecordView]] = {}
    for view in sorted(views, key=lambda v: v.at, reverse=True):
        who = view.staff_id if view.staff_id is not None else view.staff_name
        groups.setdefault((local_date(view.at), who), []).append(view)
    days = []
    for (day, _), group in groups.items():
        # Oldest first inside the group, so "test results and messages" follows the visit.
        ordered = sorted(group, key=lambda v: v.at)
        days.append(
            ViewDay(
                day=day,
                staff_name=group[0].staff_name,
                role=ROLE_WORDS.get(group[0].role, group[0].role),
                looked_at=_unique(
                    LOOKED_AT.get(v.what, SOMETHING_ELSE) for v in ordered if v.what not in SAW_NAME
                ),
                saw_name=_unique(SAW_NAME[v.what] for v in ordered if v.what in SAW_NAME),
                times=len(group),
                first=ordered[0].at,
                last=ordered[-1].at,
            )
        )
    return days


def views_by_day(user: User, patient_id: int, *, session: Session, now: datetime) -> list[ViewDay]:
    """Who looked at the record, grouped by person and day (access checked and audited)."""
    return group_views(who_viewed(user, patient_id, session=session, now=now))
