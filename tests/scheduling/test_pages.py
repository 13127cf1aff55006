"""Both sides of scheduling driven through the real app with AppTest."""

from datetime import timedelta

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components.visit_card import parse_key
from db.models import Booking, BookingStatus
from tests.harness import click, open_app


def _open(username: str, page: str) -> AppTest:
    return open_app(username, page, timeout=30)


def test_patient_books_a_visit_and_sees_it(app_env, session, clinic):
    at = _open(clinic.alice_user.username, "pages/appointments.py")
    at.selectbox(key="book_visit_type").set_value("annual")
    at.run()
    pid, start = parse_key(at.selectbox(key="book_slot").value)
    click(at, "Book this time")
    assert "Your visit is booked." in [s.value for s in at.success]
    row = session.exec(select(Booking)).one()
    assert (row.patient_id, row.start, row.visit_type) == (clinic.alice.id, start, "annual")
    assert any(b.label == "Add to calendar (.ics)" for b in at.get("download_button"))


def test_patient_told_when_slot_was_just_taken_and_nothing_stored(app_env, session, clinic):
    at = _open(clinic.alice_user.username, "pages/appointments.py")
    pid, start = parse_key(at.selectbox(key="book_slot").value)
    # Bob books the same time between Alice loading the page and pressing Book.
    session.add(
        Booking(
            patient_id=clinic.bob.id,
            practitioner_id=pid,
            start=start,
            end=start + timedelta(minutes=20),
            visit_type="follow_up",
        )
    )
    session.commit()
    [b for b in at.button if b.label == "Book this time"][0].click()
    at.run()
    assert any("someone else just booked" in e.value for e in at.error)
    assert len(session.exec(select(Booking)).all()) == 1


def test_staff_books_for_patient_sees_no_shows_and_marks_visit(app_env, session, clinic):
    at = _open(clinic.staff.username, "pages/schedule.py")
    at.selectbox(key="schedule_provider").set_value(clinic.smith.id)
    at.text_input(key="schedule_patient_query").set_value(clinic.alice.mrn)
    at.run()
    assert not at.exception, at.exception
    assert any("No missed visits" in c.value for c in at.caption)
    slot = at.selectbox(key="staff_slot").value
    click(at, "Book")
    row = session.exec(select(Booking)).one()
    assert row.patient_id == clinic.alice.id and row.start == slot.start

    from portal.config import get_settings as settings

    at.date_input(key="schedule_day").set_value(slot.start.astimezone(settings().tz).date())
    at.run()
    click(at, "No-show")
    session.expire_all()
    assert session.get(Booking, row.id).status == BookingStatus.NO_SHOW
    at.text_input(key="schedule_patient_query").set_value(clinic.alice.mrn)
    at.run()
    assert any("missed 1 visit" in w.value for w in at.warning)
