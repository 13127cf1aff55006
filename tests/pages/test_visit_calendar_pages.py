"""One calendar on every screen (issue 12, item 3) and self-scheduling without traps (item 4):
a visit booked by the front desk or held by the EHR shows the same on the patient's Home, under
Appointments > Upcoming and on the provider's staff day; cancel asks first and the screen shows
the new state at once; a duplicate booking is refused in plain words; "Move to" starts empty."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from components.visit_card import slot_key
from db.models import Booking, BookingStatus, Role
from portal.config import get_settings
from portal.services.scheduling import availability, booking
from tests.factories import create_patient, create_practitioner, create_user
from tests.factories_records import create_appointment
from tests.pages.conftest import click, run_ok
from tests.scheduling.conftest import Clinic, add_template

APPOINTMENTS = "pages/appointments.py"
SCHEDULE = "pages/schedule.py"
HOME = "pages/home.py"


@pytest.fixture
def clinic(session) -> Clinic:
    smith = create_practitioner(session, name="Dr. Smith")
    jones = create_practitioner(session, name="Dr. Jones")
    for weekday in range(7):
        add_template(session, smith, weekday=weekday, visit_types="annual,follow_up", video=True)
        add_template(session, jones, weekday=weekday, visit_types="follow_up")
    alice = create_patient(session, given_name="Alice", family_name="Ames")
    bob = create_patient(session, given_name="Bob", family_name="Burns")
    return Clinic(
        smith=smith,
        jones=jones,
        alice=alice,
        bob=bob,
        alice_user=create_user(session, Role.PATIENT, alice),
        bob_user=create_user(session, Role.PATIENT, bob),
        staff=create_user(session, Role.FRONT_DESK),
    )


def _now() -> datetime:
    return datetime.now(UTC)  # the pages read the wall clock


def _slot(session, practitioner, visit_type="annual", *, after_hours=72, within_hours=24 * 14):
    now = _now()
    return availability.open_slots(
        session=session,
        now=now,
        start=now + timedelta(hours=after_hours),
        end=now + timedelta(hours=within_hours),
        practitioner_id=practitioner.id,
        visit_type=visit_type,
        limit=1,
    )[0]


def _book(session, clinic, user, visit_type="annual", practitioner=None, **slot_window):
    practitioner = practitioner or clinic.smith
    slot = _slot(session, practitioner, visit_type, **slot_window)
    return booking.book(
        user,
        session=session,
        now=_now(),
        patient_id=clinic.alice.id,
        practitioner_id=practitioner.id,
        start=slot.start,
        visit_type=visit_type,
    )


def _tab_texts(at, label: str) -> list[str]:
    tab = next(t for t in at.tabs if t.label == label)
    return [t.value for t in tab.text] + [c.value for c in tab.caption]


def _staff_day(open_page, clinic, practitioner, start):
    staff = open_page(clinic.staff.username, SCHEDULE)
    staff.selectbox(key="schedule_provider").set_value(practitioner.id)
    staff.date_input(key="schedule_day").set_value(start.astimezone(get_settings().tz).date())
    return run_ok(staff)


# --- item 3: one calendar --------------------------------------------------------------------


def test_clinic_booked_visits_show_the_same_on_home_appointments_and_the_staff_day(
    open_page, session, clinic
):
    by_front_desk = _book(session, clinic, clinic.staff)
    # A visit the clinic booked in its EHR (synced FHIR Appointment) with Dr. Jones.
    ehr_start = by_front_desk.start + timedelta(days=1)
    create_appointment(
        session,
        clinic.alice,
        service_type="Diabetes check",
        practitioner_id=clinic.jones.id,
        start=ehr_start,
        end=ehr_start + timedelta(minutes=20),
        status="booked",
    )

    home = open_page(clinic.alice_user.username, HOME)
    visits = home.dataframe[0].value
    assert list(visits["Visit"]) == ["Annual physical", "Diabetes check"]
    assert list(visits["With"]) == ["Dr. Smith", "Dr. Jones"]

    appointments = open_page(clinic.alice_user.username, APPOINTMENTS)
    upcoming = _tab_texts(appointments, "Upcoming")
    assert "Annual physical with Dr. Smith" in upcoming
    assert "Diabetes check with Dr. Jones" in upcoming
    assert upcoming.index("Annual physical with Dr. Smith") < upcoming.index(
        "Diabetes check with Dr. Jones"
    )
    # Not listed on the booking tab as if it were something to book.
    assert "Diabetes check with Dr. Jones" not in _tab_texts(appointments, "Book a visit")

    smith_day = _staff_day(open_page, clinic, clinic.smith, by_front_desk.start)
    assert "Annual physical with Dr. Smith · Alice Ames" in [t.value for t in smith_day.text]
    jones_day = _staff_day(open_page, clinic, clinic.jones, ehr_start)
    assert "Diabetes check with Dr. Jones · Alice Ames" in [t.value for t in jones_day.text]
    assert "No visits booked on this day." not in [i.value for i in jones_day.info]


def test_a_booking_written_back_to_the_ehr_shows_once_on_the_staff_day(open_page, session, clinic):
    b = _book(session, clinic, clinic.alice_user)
    create_appointment(
        session,
        clinic.alice,
        service_type="Annual physical",
        practitioner_id=clinic.smith.id,
        start=b.start,
        status="booked",
    )
    day = _staff_day(open_page, clinic, clinic.smith, b.start)
    shown = [t.value for t in day.text]
    assert shown.count("Annual physical with Dr. Smith · Alice Ames") == 1
    # It is the portal booking (with its actions), not the read-only EHR copy.
    assert [b.label for b in day.button if b.label == "Arrived"] == ["Arrived"]


# --- item 4: self-scheduling without traps -----------------------------------------------------


def test_cancel_asks_first_then_the_visit_leaves_upcoming_at_once(open_page, session, clinic):
    b = _book(session, clinic, clinic.alice_user)
    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    click(at, "Cancel visit")
    # Nothing happened yet: a question with a way back.
    # (markdown-escaped: the provider's name is EHR text)
    question = at.warning[0].value.replace("\\", "")
    assert question.startswith("Cancel Annual physical with Dr. Smith on")
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.BOOKED
    click(at, "Keep visit")
    assert not at.warning and "Annual physical with Dr. Smith" in _tab_texts(at, "Upcoming")

    click(at, "Cancel visit")
    click(at, "Yes, cancel visit")
    assert [s.value for s in at.success] == ["Your visit was cancelled."]
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.CANCELLED
    assert "Annual physical with Dr. Smith" not in _tab_texts(at, "Upcoming")
    assert "You have no upcoming visits." in [i.value for i in at.info]
    assert any(c.endswith("· cancelled") for c in _tab_texts(at, "Past"))


def test_reschedule_moves_nothing_until_a_new_time_is_chosen(open_page, session, clinic):
    b = _book(session, clinic, clinic.alice_user)
    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    move_to = at.selectbox(key=f"move_to_{b.id}")
    assert move_to.value is None
    reschedule = next(x for x in at.button if x.label == "Reschedule")
    assert reschedule.disabled
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.BOOKED

    at.selectbox(key=f"move_to_{b.id}").select_index(1)
    run_ok(at)
    click(at, "Reschedule")
    assert [x.value for x in at.success] == ["Your visit was moved."]
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.CANCELLED


def test_a_second_annual_physical_the_same_day_is_refused_in_plain_words(
    open_page, session, clinic
):
    first = _book(session, clinic, clinic.alice_user)
    # Another open time with Dr. Smith that morning (no overlap: the day's rule refuses it).
    later = availability.open_slots(
        session=session,
        now=_now(),
        start=first.end,
        end=first.end + timedelta(hours=3),
        practitioner_id=clinic.smith.id,
        visit_type="annual",
        limit=1,
    )[0]
    tz = get_settings().tz
    assert later.start.astimezone(tz).date() == first.start.astimezone(tz).date()
    at = open_page(
        clinic.alice_user.username,
        APPOINTMENTS,
        book_slot=slot_key(clinic.smith.id, later.start),
        book_provider=clinic.smith.id,
    )
    at.selectbox(key="book_visit_type").set_value("annual")
    run_ok(at)
    click(at, "Book this time")
    assert [e.value for e in at.error] == [
        "You already have an Annual physical with Dr. Smith that day "
        f"({booking.when(first.start)}). Please change that visit instead of booking another."
    ]
    session.expire_all()
    assert len(session.exec(select(Booking)).all()) == 1


def test_a_visit_booked_today_for_tomorrow_can_still_be_cancelled_online(
    open_page, session, clinic
):
    # The first open time within the 24-hour cut-off, booked just now.
    b = _book(session, clinic, clinic.alice_user, after_hours=1, within_hours=23)
    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    assert not any("less than 24 hours away" in t for t in _tab_texts(at, "Upcoming"))
    click(at, "Cancel visit")
    click(at, "Yes, cancel visit")
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.CANCELLED


def test_staff_cancel_on_the_day_asks_first_too(open_page, session, clinic):
    b = _book(session, clinic, clinic.alice_user)
    day = _staff_day(open_page, clinic, clinic.smith, b.start)
    click(day, "Cancel visit")
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.BOOKED
    click(day, "Yes, cancel visit")
    assert [s.value for s in day.success] == [
        "Visit cancelled; the slot was offered to the waitlist."
    ]
    session.expire_all()
    assert session.get(Booking, b.id).status == BookingStatus.CANCELLED
    assert not [x for x in day.button if x.label in ("Cancel visit", "Arrived")]
