"""Two patients press "Book" for the same slot at the same moment: the database picks one."""

import threading

from sqlmodel import Session, select

from db.models import Booking
from portal.services.scheduling import availability, booking
from portal.services.scheduling.errors import SlotTaken
from tests.scheduling.conftest import WED_9AM


def test_simultaneous_bookings_exactly_one_wins(engine, session, now, clinic, monkeypatch):
    real_check = availability.check_bookable
    both_checked = threading.Barrier(2, timeout=20)

    def check_then_wait(**kwargs):
        # Both requests pass every check in Python before either inserts: only the
        # database's unique index can stop the second one.
        slot = real_check(**kwargs)
        both_checked.wait()
        return slot

    monkeypatch.setattr(availability, "check_bookable", check_then_wait)
    results: dict[str, object] = {}

    def attempt(name, user, patient):
        with Session(engine, expire_on_commit=False) as own_session:
            try:
                results[name] = booking.book(
                    user,
                    session=own_session,
                    now=now,
                    patient_id=patient.id,
                    practitioner_id=clinic.smith.id,
                    start=WED_9AM,
                    visit_type="follow_up",
                )
            except SlotTaken as error:
                results[name] = error

    threads = [
        threading.Thread(target=attempt, args=("alice", clinic.alice_user, clinic.alice)),
        threading.Thread(target=attempt, args=("bob", clinic.bob_user, clinic.bob)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    winners = [r for r in results.values() if isinstance(r, Booking)]
    losers = [r for r in results.values() if isinstance(r, SlotTaken)]
    assert len(winners) == 1 and len(losers) == 1, results
    session.expire_all()
    rows = session.exec(select(Booking).where(Booking.start == WED_9AM)).all()
    assert len(rows) == 1 and rows[0].patient_id == winners[0].patient_id
