"""One truth for visits: portal bookings (the patient's own or the front desk's) and the EHR's
appointments, merged once, for every view that lists visits: the patient's Home and Appointments
and the provider's day on the staff schedule. A booking written back to the EHR and synced again
shows once (ehr_visits leaves it out)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from db.models import User
from portal.services import audit
from portal.services.audited_reads import LISTED_ON_CALENDAR
from portal.services.scheduling import booking, ehr_visits
from portal.services.scheduling.booking import VisitRow
from portal.services.scheduling.ehr_visits import EhrVisit

Entry = VisitRow | EhrVisit


def start_of(entry: Entry) -> datetime:
    return entry.booking.start if isinstance(entry, VisitRow) else entry.start


def _merged(
    bookings: list[VisitRow], appointments: list[EhrVisit], *, newest_first: bool = False
) -> list[Entry]:
    return sorted([*bookings, *appointments], key=start_of, reverse=newest_first)


@dataclass(frozen=True)
class PatientCalendar:
    upcoming: list[Entry]  # soonest first
    past: list[Entry]  # newest first, cancelled and missed included

    @property
    def upcoming_bookings(self) -> list[VisitRow]:
        return [e for e in self.upcoming if isinstance(e, VisitRow)]


def patient_calendar(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> PatientCalendar:
    """Every visit of one patient, portal and EHR, split into upcoming and past (access checked
    and audited by the two reads)."""
    upcoming, past = booking.list_for_patient(actor, patient_id, session=session, now=now)
    ehr_upcoming, ehr_past = ehr_visits.list_ehr_visits(actor, patient_id, session=session, now=now)
    return PatientCalendar(
        upcoming=_merged(upcoming, ehr_upcoming),
        past=_merged(past, ehr_past, newest_first=True),
    )


def practitioner_day(
    actor: User,
    *,
    session: Session,
    now: datetime,
    practitioner_id: int,
    day_start: datetime,
    day_end: datetime,
) -> list[Entry]:
    """A provider's visits between two instants, portal and EHR (staff only, audited)."""
    rows = booking.day_calendar(
        actor,
        session=session,
        now=now,
        practitioner_id=practitioner_id,
        day_start=day_start,
        day_end=day_end,
    )
    appointments = ehr_visits.for_practitioner(
        session=session, practitioner_id=practitioner_id, start=day_start, end=day_end
    )
    # The bookings' patients were logged by day_calendar; log those only the EHR lists.
    listed = {r.booking.patient_id for r in rows}
    others = [a.patient_id for a in appointments if a.patient_id not in listed]
    if others:
        audit.record_listed(
            session=session,
            actor=actor,
            category=LISTED_ON_CALENDAR,
            patient_ids=others,
            detail=f"calendar practitioner {practitioner_id} (EHR visits)",
            now=now,
        )
        session.commit()
    return _merged(rows, appointments)
