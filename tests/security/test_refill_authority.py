"""Refill decisions follow clinical authority on the Refill queue page: the front desk and nurses
review and route a refill but see no approve / deny (and are told why); a clinician decides. The
page is only the first line: a stale page that still shows the buttons is refused by the service.
"""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from db.models import AuditEvent, RefillRequest, Role, TriageItem, User
from portal.services import refills, triage, user_admin
from tests.factories import create_patient, create_user
from tests.harness import click, force_page, open_app
from tests.requests.helpers import create_medication

PAGE = "refill_queue"
REFUSED = "Only a clinician can approve, deny or close a refill request."


@pytest.fixture
def clinic(app_env, session):
    alice = create_patient(session, given_name="Alice", family_name="Archer")
    me = create_user(session, Role.PATIENT, alice, username="alice")
    med = create_medication(session, alice, display="Metformin 500 mg tablet")
    refill = refills.request_refill(
        me, alice.id, med.id, pharmacy="Elm Street Pharmacy", session=session,
        now=datetime.now(UTC),
    )  # fmt: skip
    create_user(session, Role.FRONT_DESK, username="desk", display_name="Dee Desk")
    create_user(session, Role.NURSE, username="nurse", display_name="Nora Nurse")
    create_user(session, Role.CLINICIAN, username="doc", display_name="Dr. Dana")
    create_user(session, Role.ADMIN, username="boss")
    return triage._item_for(session, refills.KIND, refill.id)


def _labels(at) -> list[str]:
    return [b.label for b in at.button]


def _refill(session) -> RefillRequest:
    session.expire_all()
    return session.exec(select(RefillRequest)).one()


def _denied(session, username: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.exec(
            select(AuditEvent).where(
                AuditEvent.username == username, AuditEvent.outcome == "denied"
            )
        ).all()
    )


@pytest.mark.parametrize("username", ["desk", "nurse"])
def test_front_desk_and_nurse_review_a_refill_but_see_no_approve_or_deny(session, clinic, username):
    at = open_app(username, PAGE)
    assert "**Metformin 500 mg tablet**" in [m.value for m in at.markdown]
    assert any("Elm Street Pharmacy" in t.value for t in at.text)
    assert "Approve" not in _labels(at) and "Deny" not in _labels(at)
    [why] = [i.value for i in at.info]
    assert "prescriber's decision" in why and "assign it to a clinician" in why
    # Routing is there: claim, assign, change status.
    assert {"Claim", "Assign", "Change status"} <= set(_labels(at))


def test_front_desk_cannot_close_a_refill_from_the_page_and_the_attempt_is_audited(session, clinic):
    at = open_app("desk", PAGE)
    at.selectbox(key=f"status_{clinic.id}").set_value("closed")
    at.text_input(key=f"status_reason_{clinic.id}").set_value("patient called, sorted")
    click(at, "Change status")
    assert [e.value for e in at.error] == [REFUSED]
    session.expire_all()
    assert session.get(TriageItem, clinic.id).status == "new"
    assert [e.action for e in _denied(session, "desk")] == ["decide refills"]


def test_nurse_routes_the_refill_to_a_clinician_from_the_queue(session, clinic):
    at = open_app("nurse", PAGE)
    click(at, "Claim")
    assert "You claimed this item." in [s.value for s in at.success]
    doctor = session.exec(select(User).where(User.username == "doc")).one()
    at.selectbox(key=f"assignee_{clinic.id}").set_value(doctor.id)
    click(at, "Assign")
    assert "Assigned to Dr. Dana." in [s.value for s in at.success]
    session.expire_all()
    item = session.get(TriageItem, clinic.id)
    assert (item.assignee_user_id, item.status) == (doctor.id, "in_progress")
    assert _refill(session).status == "in_review"  # routed, not decided
    assert _denied(session, "nurse") == []


def test_clinician_approves_from_the_queue(session, clinic):
    at = open_app("doc", PAGE)
    assert at.info == [] or all("prescriber" not in i.value for i in at.info)
    click(at, "Approve")
    assert "Refill approved; the patient has been notified." in [s.value for s in at.success]
    assert _refill(session).status == "approved"


def test_a_click_on_a_page_drawn_before_a_demotion_approves_nothing(session, clinic):
    """The buttons on an already-open page are no authority: the click runs as the account is
    now (the service asks the table again; the stale object case is in test_permissions)."""
    at = open_app("doc", PAGE)
    assert "Approve" in _labels(at)
    boss = session.exec(select(User).where(User.username == "boss")).one()
    doc = session.exec(select(User).where(User.username == "doc")).one()
    user_admin.change_role(boss, doc.id, Role.FRONT_DESK, session=session, now=datetime.now(UTC))
    [b for b in at.button if b.label == "Approve"][0].click()
    at.run()
    assert not at.exception
    assert _refill(session).status == "requested"
    assert "Approve" not in _labels(at)


def test_a_forced_visit_by_a_patient_shows_a_refusal_and_no_refill(session, clinic):
    at = force_page("alice", PAGE)
    assert [e.value for e in at.error] == ["This page is for clinic staff."]
    assert "Approve" not in _labels(at) and not at.radio
