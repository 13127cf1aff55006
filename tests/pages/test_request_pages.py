"""Visit and referral requests with their details and actions (issue 12, item 2): the patient's
request carries what the visit is for and when suits; an empty one is refused in plain words;
the nurse reads it all in the triage item and books straight from it with the slot picker
filtered by those preferences, or records a referral decision; the patient is told."""

from datetime import UTC, datetime, time

import pytest
from sqlmodel import select

from db.models import Booking, Notification, ReferralRequest, Role, TriageItem, VisitRequest
from portal.config import get_settings
from portal.services import referrals
from portal.services.scheduling import visit_requests
from tests.factories import create_patient, create_practitioner, create_user
from tests.pages.conftest import click, run_ok, texts
from tests.scheduling.conftest import add_template

APPOINTMENTS = "pages/appointments.py"
TRIAGE = "pages/triage_inbox.py"
REFERRALS = "pages/referrals.py"


@pytest.fixture
def people(session):
    smith = create_practitioner(session, name="Dr. Smith")
    jones = create_practitioner(session, name="Dr. Jones")
    for weekday in range(5):
        add_template(session, smith, weekday=weekday, visit_types="annual,follow_up")
        add_template(
            session,
            jones,
            weekday=weekday,
            visit_types="follow_up",
            start_time=_t(13),
            end_time=_t(16),
        )
    alice = create_patient(session, given_name="Alice", family_name="Ames")
    return {
        "smith": smith,
        "jones": jones,
        "alice": alice,
        "alice_user": create_user(session, Role.PATIENT, alice),
        "nurse": create_user(session, Role.NURSE),
    }


def _t(hour):
    return time(hour, 0)


def _now():
    return datetime.now(UTC)


def test_an_empty_visit_request_is_refused_in_plain_words(open_page, session, people):
    at = open_page(people["alice_user"].username, APPOINTMENTS)
    at.button(key="FormSubmitter:visit_request_form-Send request").click()
    run_ok(at)
    assert [e.value for e in at.error] == [
        "Please tell us what the visit is for, so the clinic can book it."
    ]
    assert session.exec(select(VisitRequest)).all() == []


def test_patient_sends_a_request_with_its_details_and_sees_it_waiting(open_page, session, people):
    at = open_page(people["alice_user"].username, APPOINTMENTS)
    at.selectbox(key="rq_t").set_value("follow_up")
    at.text_area(key="rq_reason").set_value("Knee pain after a fall")
    at.selectbox(key="rq_provider").set_value(people["jones"].id)
    at.multiselect(key="rq_days").set_value([1, 3])
    at.multiselect(key="rq_parts").set_value(["afternoon"])
    at.text_input(key="rq_times").set_value("After 2 if possible")
    at.button(key="FormSubmitter:visit_request_form-Send request").click()
    run_ok(at)
    assert [s.value for s in at.success] == [
        "Your request was sent to the clinic. We will let you know when it is booked."
    ]
    row = session.exec(select(VisitRequest)).one()
    assert (row.reason, row.practitioner_id, row.preferred_days, row.preferred_parts) == (
        "Knee pain after a fall",
        people["jones"].id,
        "1,3",
        "afternoon",
    )
    assert "Follow-up visit: Knee pain after a fall" in texts(at)
    assert any(
        c.startswith("Waiting for the clinic · Dr. Jones · Tuesday, Thursday · Afternoons")
        for c in texts(at)
    )


def _nurse_on(open_page, session, people, kind: str):
    """The nurse's triage inbox with the (only) item of this kind open."""
    item = session.exec(select(TriageItem).where(TriageItem.kind == kind)).one()
    at = open_page(people["nurse"].username, TRIAGE)
    at.selectbox(key="triage_open_item").set_value(item.id)
    return run_ok(at)


def test_nurse_sees_the_visit_request_and_books_it_from_the_filtered_picker(
    open_page, session, people
):
    visit_requests.request_visit(
        people["alice_user"],
        session=session,
        now=_now(),
        patient_id=people["alice"].id,
        visit_type="follow_up",
        practitioner_id=people["jones"].id,
        preferred_days=[1, 3],
        preferred_parts=["afternoon"],
        preferred_times="After 2 if possible",
        reason="Knee pain after a fall",
    )
    at = _nurse_on(open_page, session, people, visit_requests.KIND)
    shown = texts(at)
    for line in (
        "Patient: Alice Ames",
        "Visit type: Follow-up visit",
        "Reason: Knee pain after a fall",
        "Preferred provider: Dr. Jones",
        "Days and times that suit: Tuesday, Thursday · Afternoons",
        "Patient's note on times: After 2 if possible",
    ):
        assert line in shown
    picker = at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("vr_slot_")))
    assert picker.value is None
    assert picker.options
    # Every time offered is Dr. Jones, on a Tuesday or Thursday afternoon.
    assert all(o.endswith("· Dr. Jones") for o in picker.options)
    assert all(o.startswith(("Tue", "Thu")) for o in picker.options)
    picker.select_index(0)
    run_ok(at)
    click(at, "Book and tell the patient")
    assert [s.value for s in at.success] == [
        "Visit booked; the request is closed and the patient has been notified."
    ]
    visit = session.exec(select(Booking)).one()
    local = visit.start.astimezone(get_settings().tz)
    assert (visit.practitioner_id, local.weekday() in (1, 3), local.hour >= 12) == (
        people["jones"].id,
        True,
        True,
    )
    assert session.exec(select(VisitRequest)).one().status == "scheduled"
    assert (
        session.exec(select(Notification))
        .one()
        .text.startswith("Your visit request was booked: Follow-up visit with Dr. Jones on")
    )
    # The patient finds it under Appointments > Upcoming.
    patient = open_page(people["alice_user"].username, APPOINTMENTS)
    assert "Follow-up visit with Dr. Jones" in texts(patient)


def test_nurse_records_a_referral_decision_and_the_patient_reads_it(open_page, session, people):
    referrals.request_referral(
        people["alice_user"],
        session=session,
        now=_now(),
        patient_id=people["alice"].id,
        specialty="Dermatology",
        reason="Mole that changed shape",
        preferred_provider="Dr. Lee",
    )
    at = _nurse_on(open_page, session, people, referrals.KIND)
    shown = texts(at)
    assert "Specialty: Dermatology" in shown
    assert "Reason: Mole that changed shape" in shown
    assert "Preferred specialist: Dr. Lee" in shown
    submit = next(b for b in at.button if b.label == "Decline referral")
    submit.click()
    run_ok(at)
    assert [e.value for e in at.error] == [
        "Please give the reason for declining; the patient will see it."
    ]
    assert session.exec(select(ReferralRequest)).one().status == "open"
    at.text_area(
        key=next(t.key for t in at.text_area if t.key.startswith("ref_reason_"))
    ).set_value("Dr. Smith can see this here first.")
    next(b for b in at.button if b.label == "Decline referral").click()
    run_ok(at)
    assert [s.value for s in at.success] == ["Referral declined; the patient has been notified."]
    patient = open_page(people["alice_user"].username, REFERRALS)
    table = patient.dataframe[-1].value
    assert list(table["Status"]) == ["Declined"]
    assert list(table["Clinic's answer"]) == ["Dr. Smith can see this here first."]
