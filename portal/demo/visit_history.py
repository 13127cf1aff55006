"""A past year of portal visits for the demo clinic, with realistic no-shows, so the dashboard's
no-show rates (4, 26, 52 weeks) have data and the no-show model trains on day one; and a few
visits in the next days for patients who often miss, which the model flags on the staff calendar.

Most patients miss about one visit in twenty; about one in eight misses more than half. Long lead
times, early-morning and Monday slots and no reminder raise the chance a little, as clinics
report. Rows go in as plain inserts (no services: the history happened before the portal's
audit trail of the demo began), a few hundred at clinic size, so the first start stays fast.
"""

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from db.models import Booking, BookingStatus, Practitioner, ReminderSent, saved_id

DAYS = 364
OFTEN_MISSES = 0.12  # share of patients who miss about half their visits
UPCOMING_AT_RISK = 4  # visits in the next days for such patients (the calendar's flags)
# The no-show model needs some history (no_show.MIN_VISITS); a tiny demo clinic gives its few
# patients more visits each rather than show an empty dashboard.
MIN_HISTORY = 80


@dataclass
class History:
    visits: int = 0
    no_shows: int = 0
    upcoming_at_risk: int = 0


@dataclass(frozen=True)
class Provider:
    practitioner: Practitioner
    visit_types: list[str]


def _slot_times(blocks: Iterable[tuple[time, time]], minutes: int) -> list[time]:
    times = []
    for start, end in blocks:
        t = datetime.combine(date.min, start)
        while (t + timedelta(minutes=minutes)).time() <= end:
            times.append(t.time())
            t += timedelta(minutes=minutes)
    return times


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _chance(base: float, *, lead_days: int, local: datetime, reminded: bool) -> float:
    chance = base + min(lead_days, 45) * 0.002
    if local.weekday() == 0 or local.hour < 9:
        chance += 0.03
    if not reminded:
        chance += 0.03
    return min(chance, 0.9)


class _Calendar:
    """Free starts per provider (the database allows one active visit per provider and start)."""

    def __init__(self, session: Session, slot_times: list[time], tz: ZoneInfo):
        self.slot_times, self.tz = slot_times, tz
        self.taken = set(
            session.exec(
                select(Booking.practitioner_id, Booking.start).where(
                    Booking.status != BookingStatus.CANCELLED
                )
            ).all()
        )

    def take(
        self, rng: random.Random, practitioner_id: int, day: date
    ) -> tuple[datetime, datetime]:
        for _ in range(20):
            at = datetime.combine(day, rng.choice(self.slot_times), tzinfo=self.tz)
            key = (practitioner_id, at.astimezone(ZoneInfo("UTC")))
            if key not in self.taken:
                self.taken.add(key)
                return key[1], key[1] + timedelta(minutes=20)
        raise LookupError("no free slot")

    def free_between(
        self, practitioner_id: int, after: datetime, before: datetime
    ) -> list[datetime]:
        """Weekday starts in (after, before) that nobody holds, soonest first."""
        starts = []
        day = after.astimezone(self.tz).date()
        while datetime.combine(day, time.min, tzinfo=self.tz) < before:
            if day.weekday() < 5:
                for t in self.slot_times:
                    at = datetime.combine(day, t, tzinfo=self.tz).astimezone(ZoneInfo("UTC"))
                    if after < at < before and (practitioner_id, at) not in self.taken:
                        starts.append(at)
            day += timedelta(days=1)
        return starts


def seed_visit_history(
    *,
    session: Session,
    rng: random.Random,
    now: datetime,
    tz: ZoneInfo,
    providers: list[Provider],
    patient_ids: list[int],
    blocks: Iterable[tuple[time, time]],
    slot_minutes: int,
) -> History:
    """Insert the year of visits and the at-risk upcoming ones; the caller commits."""
    history = History()
    if not providers or not patient_ids:
        return history
    calendar = _Calendar(session, _slot_times(blocks, slot_minutes), tz)
    today = now.astimezone(tz).date()
    often = set(rng.sample(patient_ids, max(1, round(len(patient_ids) * OFTEN_MISSES))))
    bookings: list[Booking] = []
    reminded: list[Booking] = []
    missed: Counter[int] = Counter()
    extra = max(0, -(-MIN_HISTORY // len(patient_ids)) - 4)
    for patient_id in patient_ids:
        own = rng.choice(providers)
        base = 0.6 if patient_id in often else 0.03
        # Spread over the year (one visit in each equal stretch), as regular care is.
        n = rng.randint(2, 7) + extra
        stretch = DAYS // n
        offsets = [
            rng.randint(2 + k * stretch, max(2 + k * stretch, (k + 1) * stretch)) for k in range(n)
        ]
        days = sorted({_weekday_on_or_before(today - timedelta(days=d)) for d in offsets})
        for day in days:
            provider = own if rng.random() < 0.8 else rng.choice(providers)
            visit_type = rng.choice(provider.visit_types)
            try:
                start, end = calendar.take(rng, saved_id(provider.practitioner), day)
            except LookupError:
                continue
            lead = rng.randint(0, 3) if visit_type == "new_problem" else rng.randint(3, 60)
            got_reminder = rng.random() < 0.75
            local = start.astimezone(tz)
            if rng.random() < 0.06:
                status = BookingStatus.CANCELLED
            elif rng.random() < _chance(base, lead_days=lead, local=local, reminded=got_reminder):
                status = BookingStatus.NO_SHOW
            else:
                status = BookingStatus.COMPLETED
            row = Booking(
                patient_id=patient_id,
                practitioner_id=saved_id(provider.practitioner),
                start=start,
                end=end,
                visit_type=visit_type,
                status=status,
                created_at=start - timedelta(days=lead, hours=rng.randint(1, 8)),
                cancelled_at=start - timedelta(days=1)
                if status == BookingStatus.CANCELLED
                else None,
                cancel_reason="by patient" if status == BookingStatus.CANCELLED else None,
                arrived_at=start - timedelta(minutes=10)
                if status == BookingStatus.COMPLETED
                else None,
            )
            bookings.append(row)
            if got_reminder and lead >= 1:
                reminded.append(row)
            if status != BookingStatus.CANCELLED:
                history.visits += 1
                history.no_shows += status == BookingStatus.NO_SHOW
                missed[patient_id] += status == BookingStatus.NO_SHOW

    # Visits in the next days for patients who often miss, booked weeks ago: inside the no-show
    # job's 72-hour window, so the scheduler's first tick (30 s after start) flags them.
    provider = providers[0]
    soon = calendar.free_between(
        saved_id(provider.practitioner), now + timedelta(hours=2), now + timedelta(hours=70)
    )
    # Those who missed most: the model's clearest cases.
    most_missed = sorted(often, key=lambda pid: (-missed[pid], pid))[:UPCOMING_AT_RISK]
    for patient_id, start in zip(
        most_missed,
        rng.sample(soon, min(len(soon), UPCOMING_AT_RISK)),
        strict=False,
    ):
        calendar.taken.add((saved_id(provider.practitioner), start))
        end = start + timedelta(minutes=20)
        bookings.append(
            Booking(
                patient_id=patient_id,
                practitioner_id=saved_id(provider.practitioner),
                start=start,
                end=end,
                visit_type="follow_up",
                created_at=now - timedelta(days=rng.randint(30, 50)),
            )
        )
        history.upcoming_at_risk += 1

    session.add_all(bookings)
    session.flush()
    session.add_all(
        ReminderSent(booking_id=saved_id(b), offset_hours=24, sent_at=b.start - timedelta(hours=24))
        for b in reminded
    )
    session.flush()
    return history
