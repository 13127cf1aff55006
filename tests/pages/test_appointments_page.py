"""The appointments page and the staff schedule: pre-visit check-in on both sides, EHR visits
next to portal bookings, and bad input that gets a clear message while nothing changes."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from components.visit_card import slot_key
from db.models import Booking, BookingStatus, CheckIn, CheckInAnswer, Role
from portal.config import get_settings
from portal.services.scheduling import availability, booking
from portal.services.scheduling.errors import AlreadyCancelled
from tests.factories import create_patient, create_practitioner, create_user
from tests.factories_records import create_appointment
from tests.pages.conftest import click, run_ok, texts
from tests.scheduling.conftest import Clinic, add_template

APPOINTMENTS = "pages/appointments.py"
SCHEDULE = "pages/schedule.py"


@pytest.fixture
def clinic(session) -> Clinic:
    """Dr. Smith (annual + follow-up, in person and video) and Dr. Jones (follow-up only), every
    weekday; Alice and Bob with accounts; a front desk user."""
    smith = create_practitioner(session, name="Dr. Smith")
    jones = create_practitioner(session, name="Dr. Jones")
    for weekday in range(7):
        add_template(session, smith, weekday=weekday, visit_types="annual,follow_up", video=True)
        add_template(session, jones, weekday=weekday, visit_types="follow_up")
    alice = create_patient(session, given_name="Alice", family_name="Ames", email="a@x.test")
    bob = create_patient(session, given_name="Bob", family_name="Burns")
    return Clinic(
        smith=smith,
        jones=jones,
        alice=alice,
        bob=bob,
        alice_user=create_user(session, Role.PATIENT, alice, email="alice@x.test"),
        bob_user=create_user(session, Role.PATIENT, bob),
        staff=create_user(session, Role.FRONT_DESK),
    )


def _wall_now() -> datetime:
    # The pages read the wall clock, so visits are placed relative to it.
    return datetime.now(UTC)


def _first_slot(session, practitioner, visit_type="annual", days=3):
    now = _wall_now()
    return availability.open_slots(
        session=session,
        now=now,
        start=now + timedelta(days=days),
        end=now + timedelta(days=days + 14),
        practitioner_id=practitioner.id,
        visit_type=visit_type,
        limit=1,
    )[0]


def _book(session, clinic, visit_type="annual", practitioner=None, days=3) -> Booking:
    practitioner = practitioner or clinic.smith
    slot = _first_slot(session, practitioner, visit_type, days)
    return booking.book(
        clinic.alice_user,
        session=session,
        now=_wall_now(),
        patient_id=clinic.alice.id,
        practitioner_id=practitioner.id,
        start=slot.start,
        visit_type=visit_type,
    )


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _fill_phq2(at, booking_id, interest="Several days", mood="Nearly every day"):
    at.checkbox(key=f"checkin_contact_{booking_id}").check()
    at.checkbox(key=f"checkin_medications_{booking_id}").check()
    if interest:
        at.radio(key=f"checkin_phq2_interest_{booking_id}").set_value(interest)
    if mood:
        at.radio(key=f"checkin_phq2_mood_{booking_id}").set_value(mood)
    at.text_area(key=f"checkin_concerns_{booking_id}").set_value("<i>Sleep</i> problems")


# --- check-in --------------------------------------------------------------------------------


def test_patient_checks_in_and_the_clinician_sees_the_answers(open_page, session, clinic):
    b = _book(session, clinic)
    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    assert any(e.label == "Pre-visit check-in" for e in at.expander)
    # The record to confirm is on the form.
    assert "Email: a@x.test" in texts(at)
    assert "No active medications on file." in texts(at)
    _fill_phq2(at, b.id)
    click(at, "Send check-in")
    assert [s.value for s in at.success] == [
        "Thank you, you are checked in. Your care team will see your answers."
    ]
    assert "Checked in. Thank you." in texts(at)
    assert not any(e.label == "Pre-visit check-in" for e in at.expander)

    row = session.exec(select(CheckIn)).one()
    assert (row.booking_id, row.questionnaire, row.score) == (b.id, "phq2", 4)
    assert (row.contact_confirmed, row.medications_confirmed, row.allergies_confirmed) == (
        True,
        True,
        False,
    )
    answers = {a.question_code: a.answer_text for a in session.exec(select(CheckInAnswer))}
    assert answers["concerns"] == "<i>Sleep</i> problems"

    staff = open_page(clinic.staff.username, SCHEDULE)
    staff.selectbox(key="schedule_provider").set_value(clinic.smith.id)
    staff.date_input(key="schedule_day").set_value(b.start.astimezone(get_settings().tz).date())
    run_ok(staff)
    assert any(e.label == "Pre-visit check-in answers" for e in staff.expander)
    shown = texts(staff)
    assert "Contact details: confirmed · Medications: confirmed · Allergies: NOT confirmed" in shown
    assert "Feeling down, depressed, or hopeless: Nearly every day" in shown
    # The patient's text is shown literally, not as markup.
    assert "What would you like to discuss at this visit?: <i>Sleep</i> problems" in shown
    assert [w.value for w in staff.warning] == [
        "PHQ-2 score 4 of 6: positive screen, consider a PHQ-9."
    ]


def test_check_in_with_a_question_unanswered_is_refused_and_stores_nothing(
    open_page, session, clinic
):
    b = _book(session, clinic)
    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    _fill_phq2(at, b.id, mood=None)
    click(at, "Send check-in")
    assert [e.value for e in at.error] == ["Please answer: Feeling down, depressed, or hopeless"]
    assert not at.success
    assert _count(session, CheckIn) == 0
    # What the patient filled in is still there.
    assert at.text_area(key=f"checkin_concerns_{b.id}").value == "<i>Sleep</i> problems"


def test_follow_up_check_in_asks_only_the_general_question(open_page, session, clinic):
    b = _book(session, clinic, visit_type="follow_up", practitioner=clinic.jones)
    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    assert not [r for r in at.radio if r.key.startswith("checkin_")]
    at.text_area(key=f"checkin_concerns_{b.id}").set_value("Blood pressure")
    click(at, "Send check-in")
    row = session.exec(select(CheckIn)).one()
    assert (row.questionnaire, row.score) == ("general", None)


def test_staff_see_visits_not_yet_checked_in(open_page, session, clinic):
    b = _book(session, clinic)
    staff = open_page(clinic.staff.username, SCHEDULE)
    staff.selectbox(key="schedule_provider").set_value(clinic.smith.id)
    staff.date_input(key="schedule_day").set_value(b.start.astimezone(get_settings().tz).date())
    run_ok(staff)
    assert "Not checked in yet." in texts(staff)
    assert not staff.expander


# --- EHR visits next to portal bookings -------------------------------------------------------


def test_ehr_visits_show_read_only_next_to_bookings_without_duplicates(open_page, session, clinic):
    b = _book(session, clinic)
    now = _wall_now()
    create_appointment(
        session,
        clinic.alice,
        service_type="Diabetes check",
        practitioner_id=clinic.jones.id,
        start=now + timedelta(days=20),
        status="booked",
    )
    create_appointment(
        session,
        clinic.alice,
        service_type="Flu shot",
        start=now - timedelta(days=40),
        status="fulfilled",
    )
    # The booking as written back to the EHR and synced again: same provider and time.
    create_appointment(
        session,
        clinic.alice,
        service_type="Annual physical",
        practitioner_id=clinic.smith.id,
        start=b.start,
        status="booked",
    )
    # Another booking linked to its synced appointment by id.
    linked = create_appointment(
        session,
        clinic.alice,
        service_type="Linked visit",
        start=now + timedelta(days=25),
        status="booked",
    )
    other = _book(session, clinic, visit_type="follow_up", practitioner=clinic.jones, days=5)
    other.appointment_id = linked.id
    session.add(other)
    session.commit()
    # Another patient's EHR visit never shows.
    create_appointment(session, clinic.bob, service_type="Bob's visit", start=now + timedelta(1))

    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    shown = texts(at)
    assert shown.count("Annual physical with Dr. Smith") == 1
    assert "Diabetes check with Dr. Jones" in shown
    assert "Booked by the clinic. To change this visit, please call the clinic." in shown
    assert not any("Linked visit" in t for t in shown)
    assert not any("Bob's visit" in t for t in shown)
    assert "Flu shot" in shown
    assert any(t.endswith("· Completed") for t in shown)
    # Only the two portal bookings can be cancelled here.
    assert len([b for b in at.button if b.label == "Cancel visit"]) == 2


def test_patient_with_only_ehr_visits_sees_them(open_page, session, clinic):
    create_appointment(
        session,
        clinic.bob,
        service_type="Asthma review",
        start=_wall_now() + timedelta(days=9),
        status="booked",
    )
    at = open_page(clinic.bob_user.username, APPOINTMENTS)
    assert "Asthma review" in texts(at)
    assert "You have no upcoming visits." not in [i.value for i in at.info]


# --- bad input -------------------------------------------------------------------------------


def _forced_slot(open_page, clinic, key: str):
    """The page with a time chosen that is not (or no longer) on offer, e.g. from an old tab."""
    return open_page(clinic.alice_user.username, APPOINTMENTS, book_slot=key)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("past", "That time has already passed. Please pick a time in the future."),
        ("other_type", "Dr. Jones does not offer Annual physical"),
    ],
)
def test_booking_a_bad_slot_gets_a_clear_message_and_stores_nothing(
    open_page, session, clinic, case, message
):
    if case == "past":
        slot = _first_slot(session, clinic.smith)
        key = slot_key(clinic.smith.id, slot.start - timedelta(days=21))
    else:
        key = slot_key(clinic.jones.id, _first_slot(session, clinic.jones, "follow_up").start)
    at = _forced_slot(open_page, clinic, key)
    at.selectbox(key="book_visit_type").set_value("annual")
    run_ok(at)
    assert at.selectbox(key="book_slot").value == key
    click(at, "Book this time")
    assert at.error and at.error[0].value.startswith(message)
    assert not at.success
    assert _count(session, Booking) == 0


def test_cancelling_a_visit_already_cancelled_says_so_and_changes_nothing(
    open_page, session, clinic
):
    b = _book(session, clinic)
    at = open_page(clinic.alice_user.username, APPOINTMENTS)
    # Cancelled in another tab after this page was drawn.
    booking.cancel(clinic.alice_user, b.id, session=session, now=_wall_now())
    cancelled_at = session.get(Booking, b.id).cancelled_at
    click(at, "Cancel visit")
    # The stale button does nothing: the visit now shows as cancelled, with no button left.
    assert not at.success
    assert not [b for b in at.button if b.label == "Cancel visit"]
    assert any(c.endswith("· cancelled") for c in texts(at))
    # A second cancel that does reach the service (an old form, a script) is told plainly.
    with pytest.raises(AlreadyCancelled, match="This visit was already cancelled."):
        booking.cancel(clinic.alice_user, b.id, session=session, now=_wall_now())
    session.rollback()
    session.expire_all()
    row = session.get(Booking, b.id)
    assert (row.status, row.cancelled_at) == (BookingStatus.CANCELLED, cancelled_at)
    assert _count(session, Booking) == 1


def test_home_lists_portal_bookings_and_ehr_visits_once_each(open_page, session, clinic):
    b = _book(session, clinic)
    video = _book(session, clinic, visit_type="follow_up", days=6)
    video.mode = "video"
    session.add(video)
    session.commit()
    create_appointment(
        session,
        clinic.alice,
        service_type="Annual physical",
        practitioner_id=clinic.smith.id,
        start=b.start,  # the first booking, written back and synced again
    )
    create_appointment(
        session,
        clinic.alice,
        service_type="Diabetes check",
        practitioner_id=clinic.jones.id,
        start=_wall_now() + timedelta(days=30),
    )
    at = open_page(clinic.alice_user.username, "pages/home.py")
    visits = at.dataframe[0].value
    assert list(visits["Visit"]) == ["Annual physical", "Follow-up visit (video)", "Diabetes check"]
    assert list(visits["With"]) == ["Dr. Smith", "Dr. Smith", "Dr. Jones"]
    assert list(visits["Status"]) == ["Booked"] * 3
