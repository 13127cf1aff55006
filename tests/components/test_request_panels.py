"""components/request_panels.py: what the triage panels of a visit request and a referral request
show in each state (open, booked, closed, decided), what the picker offers, and what booking or
deciding stores. The clock is stopped at NOW (a Tuesday, 10:00 in New York)."""

from datetime import time

import pytest
from sqlmodel import select

from components import decision_form, request_panels
from db.models import (
    Booking,
    Notification,
    ReferralRequest,
    Role,
    TriageItem,
    VisitRequest,
    VisitRequestStatus,
)
from portal.services import referrals, triage
from portal.services.scheduling import visit_requests
from tests.conftest import NOW
from tests.factories import create_patient, create_practitioner, create_user
from tests.harness import click, freeze_clock, open_component, run_ok, texts
from tests.scheduling.conftest import add_template

TUESDAY, SATURDAY = 1, 5


def _panel(kind: str, user_id: int, item_id: int) -> None:
    from components.actions import show_flash
    from components.request_card import run_staff_action
    from components.request_panels import referral_panel, visit_request_panel
    from db.models import TriageItem, User
    from portal.services.unit_of_work import session_scope

    show_flash()
    with session_scope() as session:
        user, item = session.get(User, user_id), session.get(TriageItem, item_id)
    panel = visit_request_panel if kind == "visit" else referral_panel
    panel(user, item, item.version, run_staff_action)


@pytest.fixture
def clinic(app_env, session, monkeypatch):
    freeze_clock(monkeypatch, NOW, request_panels, decision_form)  # the decision's now too
    jones = create_practitioner(session, name="Dr. Jones")
    smith = create_practitioner(session, name="Dr. Smith")
    for weekday in range(5):  # Jones: follow-ups on weekday afternoons; Smith: mornings
        add_template(
            session,
            jones,
            weekday=weekday,
            visit_types="follow_up",
            start_time=time(13),
            end_time=time(16),
        )
        add_template(session, smith, weekday=weekday, visit_types="follow_up")
    alice = create_patient(session, given_name="Alice", family_name="Ames")
    return {
        "jones": jones,
        "alice": alice,
        "alice_user": create_user(session, Role.PATIENT, alice),
        "nurse": create_user(session, Role.NURSE),
    }


def _item(session, kind: str) -> TriageItem:
    session.expire_all()
    return session.exec(select(TriageItem).where(TriageItem.kind == kind)).one()


def _ask_visit(session, clinic, *, days: list[int], note: str = "") -> TriageItem:
    visit_requests.request_visit(
        clinic["alice_user"],
        session=session,
        now=NOW,
        patient_id=clinic["alice"].id,
        visit_type="follow_up",
        practitioner_id=clinic["jones"].id,
        preferred_days=days,
        preferred_parts=["afternoon"],
        preferred_times=note,
        reason="Knee pain after a fall",
    )
    return _item(session, visit_requests.KIND)


def _ask_referral(session, clinic, *, provider: str = "") -> TriageItem:
    referrals.request_referral(
        clinic["alice_user"],
        session=session,
        now=NOW,
        patient_id=clinic["alice"].id,
        specialty="Dermatology",
        reason="Mole that changed shape",
        preferred_provider=provider,
    )
    return _item(session, referrals.KIND)


def _open(kind: str, clinic, item: TriageItem):
    return open_component(_panel, kind, clinic["nurse"].id, item.id)


# --- visit requests ---------------------------------------------------------------------------


def test_an_open_visit_request_offers_only_times_that_suit_until_all_are_asked_for(session, clinic):
    item = _ask_visit(session, clinic, days=[TUESDAY])
    at = _open("visit", clinic, item)
    assert "Reason: Knee pain after a fall" in texts(at)
    assert "Days and times that suit: Tuesday · Afternoons" in texts(at)
    assert not any(t.startswith("Patient's note on times") for t in texts(at))  # none given
    picker = at.selectbox(key=f"vr_slot_{item.id}")
    assert picker.label == "Open times that suit the patient"
    assert picker.options and all(
        o.startswith("Tue") and o.endswith("· Dr. Jones") for o in picker.options
    )
    # Nothing is booked before a time is chosen.
    assert at.button(key=f"vr_book_{item.id}").disabled

    at.checkbox(key=f"vr_all_{item.id}").check()
    run_ok(at)
    picker = at.selectbox(key=f"vr_slot_{item.id}")
    assert picker.label == "Open times"
    assert any(not o.startswith("Tue") for o in picker.options)
    assert any(o.endswith("· Dr. Smith") for o in picker.options)


def test_booking_from_the_request_stores_the_visit_closes_the_request_and_says_so(session, clinic):
    item = _ask_visit(session, clinic, days=[TUESDAY], note="After 2 if possible")
    at = _open("visit", clinic, item)
    assert "Patient's note on times: After 2 if possible" in texts(at)
    picker = at.selectbox(key=f"vr_slot_{item.id}")
    chosen = picker.options[0]  # AppTest lists the labels the nurse reads
    picker.select_index(0)
    run_ok(at)
    assert not at.button(key=f"vr_book_{item.id}").disabled
    click(at, "Book and tell the patient")

    assert [s.value for s in at.success][0] == (
        "Visit booked; the request is closed and the patient has been notified."
    )
    session.expire_all()
    visit = session.exec(select(Booking)).one()
    assert visit.practitioner_id == clinic["jones"].id
    assert session.exec(select(VisitRequest)).one().status == VisitRequestStatus.SCHEDULED
    assert session.exec(select(Notification)).one().patient_id == clinic["alice"].id
    # Drawn again: the booking instead of the picker.
    assert at.success[-1].value == f"Booked: Follow-up visit · {chosen}"
    assert not [b for b in at.button if b.label == "Book and tell the patient"]


def test_no_time_that_suits_says_what_to_do_instead(session, clinic):
    item = _ask_visit(session, clinic, days=[SATURDAY])  # nobody works Saturdays
    at = _open("visit", clinic, item)
    assert [i.value for i in at.info] == [
        "No open time matches the patient's preferences. Show all times, or call the "
        "patient to agree on one."
    ]
    assert not [s for s in at.selectbox if s.key == f"vr_slot_{item.id}"]


def test_a_request_closed_without_a_booking_offers_nothing_to_book(session, clinic):
    item = _ask_visit(session, clinic, days=[TUESDAY])
    triage.change_status(
        clinic["nurse"],
        item.id,
        item.version,
        "closed",
        "Booked by phone",
        session=session,
        now=NOW,
    )
    at = _open("visit", clinic, _item(session, visit_requests.KIND))
    assert "This request was closed without a booking." in texts(at)
    assert not at.button and not at.selectbox and not at.checkbox


# --- referral requests ------------------------------------------------------------------------


def test_an_open_referral_is_approved_with_the_form_and_the_patient_is_told(session, clinic):
    item = _ask_referral(session, clinic, provider="Dr. Lee")
    at = _open("referral", clinic, item)
    shown = texts(at)
    for line in (
        "Specialty: Dermatology",
        "Reason: Mole that changed shape",
        "Preferred specialist: Dr. Lee",
    ):
        assert line in shown
    assert any(t.startswith("Asked ") for t in shown)
    assert {b.label for b in at.button} == {"Approve referral", "Decline referral"}

    click(at, "Approve referral")
    assert [s.value for s in at.success] == ["Referral approved; the patient has been notified."]
    session.expire_all()
    assert session.exec(select(ReferralRequest)).one().status == "approved"
    assert session.exec(select(Notification)).one().text == (
        "Your referral request (Dermatology) was approved."
    )
    # Drawn again as decided: the decision, and no form.
    assert any(t.startswith("Decision: Approved (") for t in texts(at))
    assert not at.button


def test_a_declined_referral_shows_the_decision_and_its_reason(session, clinic):
    item = _ask_referral(session, clinic)
    referrals.decide_referral(
        clinic["nurse"],
        item.id,
        item.version,
        approve=False,
        reason="Dr. Smith can see this here first.",
        session=session,
        now=NOW,
    )
    at = _open("referral", clinic, _item(session, referrals.KIND))
    shown = texts(at)
    assert not any(t.startswith("Preferred specialist") for t in shown)  # none was named
    assert any(t.startswith("Decision: Declined (") for t in shown)
    assert "Reason given: Dr. Smith can see this here first." in shown
    assert not at.button and not at.text_area
