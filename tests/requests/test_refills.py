from datetime import UTC, datetime

import pytest
from sqlmodel import select

from db.models import Notification, TriageItem
from portal.errors import InvalidInput, NotFound, NotYourRecord
from portal.services import refills, triage
from portal.services.refills import DuplicateRefill
from tests.factories import create_observation
from tests.requests.helpers import create_medication, create_visit, make_clinic


def _request(clinic, session, now, med):
    return refills.request_refill(
        clinic.alice_user,
        clinic.alice.id,
        med.id,
        pharmacy="Main St Pharmacy",
        session=session,
        now=now,
    )


def test_refill_of_active_medication_enters_the_inbox(session, now):
    clinic = make_clinic(session)
    med = create_medication(session, clinic.alice)
    refill = _request(clinic, session, now, med)
    assert refill.status == "requested"
    item = session.exec(select(TriageItem)).one()
    assert (item.kind, item.ref_id) == ("refill", refill.id)
    rows = refills.active_medications(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert rows[0].open_refill.id == refill.id


def test_second_open_refill_for_same_medication_is_refused(session, now):
    clinic = make_clinic(session)
    med = create_medication(session, clinic.alice)
    _request(clinic, session, now, med)
    with pytest.raises(DuplicateRefill, match="already have a refill request open for Metformin"):
        _request(clinic, session, now, med)


def test_refill_of_inactive_or_other_patients_medication_is_refused(session, now):
    clinic = make_clinic(session)
    stopped = create_medication(session, clinic.alice, status="stopped")
    bobs = create_medication(session, clinic.bob)
    with pytest.raises(NotFound):
        _request(clinic, session, now, stopped)
    with pytest.raises(NotFound):
        _request(clinic, session, now, bobs)
    with pytest.raises(NotYourRecord):
        refills.request_refill(
            clinic.alice_user, clinic.bob.id, bobs.id, pharmacy="x", session=session, now=now
        )


def test_claim_shows_in_review_and_denial_needs_a_reason_the_patient_sees(session, now):
    clinic = make_clinic(session)
    med = create_medication(session, clinic.alice)
    refill = _request(clinic, session, now, med)
    item = session.exec(select(TriageItem)).one()
    item = triage.claim(clinic.doctor, item.id, item.version, session=session, now=now)
    session.refresh(refill)
    assert refill.status == "in_review"
    with pytest.raises(InvalidInput, match="reason"):
        refills.decide_refill(
            clinic.doctor, item.id, item.version, approve=False, session=session, now=now
        )
    refills.decide_refill(
        clinic.doctor,
        item.id,
        item.version,
        approve=False,
        reason="Please book a visit first",
        session=session,
        now=now,
    )
    rows = refills.list_refills(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert (rows[0].status_label, rows[0].refill.decision_reason) == (
        "Denied",
        "Please book a visit first",
    )
    note = session.exec(select(Notification)).one()
    assert note.patient_id == clinic.alice.id and "denied" in note.text
    # Once decided, a new request for the same drug is allowed again.
    _request(clinic, session, now, med)


def test_approve_closes_item_and_records_history(session, now):
    clinic = make_clinic(session)
    med = create_medication(session, clinic.alice)
    _request(clinic, session, now, med)
    item = session.exec(select(TriageItem)).one()
    refills.decide_refill(
        clinic.doctor, item.id, item.version, approve=True, session=session, now=now
    )
    session.refresh(item)
    assert item.status == "closed" and item.closed_at is not None
    history = triage.history(clinic.doctor, item.id, session=session)
    assert [(h.event.action, h.actor_name) for h in history] == [
        ("created", clinic.alice_user.display_name),
        ("approved", "Dr. Dana"),
    ]


def test_refill_context_has_last_visit_and_latest_related_labs(session, now):
    clinic = make_clinic(session)
    med = create_medication(session, clinic.alice, display="Lisinopril 10 mg tablet")
    create_visit(session, clinic.alice, datetime(2026, 3, 1, tzinfo=UTC))
    create_visit(session, clinic.alice, datetime(2026, 9, 1, tzinfo=UTC), type_display="Checkup")
    old = datetime(2026, 1, 1, tzinfo=UTC)
    create_observation(
        session, clinic.alice, code="2823-3", display="Potassium", value=4.0, effective_at=old
    )
    create_observation(
        session,
        clinic.alice,
        code="2823-3",
        display="Potassium",
        value=5.1,
        effective_at=datetime(2026, 8, 1, tzinfo=UTC),
    )
    create_observation(session, clinic.alice, code="4548-4", display="HbA1c")
    _request(clinic, session, now, med)
    item = session.exec(select(TriageItem)).one()
    context = refills.refill_context(clinic.doctor, item.id, session=session, now=now)
    assert context.last_visit.type_display == "Checkup"
    assert [(o.code, o.value) for o in context.labs] == [("2823-3", 5.1)]


def test_deciding_an_item_whose_refill_row_is_gone_is_refused_in_plain_words(session, now):
    clinic = make_clinic(session)
    _request(clinic, session, now, create_medication(session, clinic.alice))
    item = session.exec(select(TriageItem)).one()
    item.ref_id = 999_999  # the request row it names no longer exists
    session.add(item)
    session.commit()
    with pytest.raises(NotFound, match="That refill request is no longer there."):
        refills.decide_refill(
            clinic.doctor, item.id, item.version, approve=True, session=session, now=now
        )
