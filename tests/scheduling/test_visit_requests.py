from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import Booking, Notification, TriageItem, VisitRequest
from portal.config import get_settings
from portal.errors import InvalidInput, NotAllowed
from portal.services import triage
from portal.services.scheduling import booking, visit_requests
from portal.services.scheduling.errors import SlotTaken


def test_visit_request_lands_in_triage_inbox(session, now, clinic):
    request = visit_requests.request_visit(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        visit_type="follow_up",
        preferred_times="Mornings",
        reason="Knee pain",
    )
    item = session.exec(select(TriageItem).where(TriageItem.kind == "visit_request")).one()
    assert item.ref_id == request.id and item.patient_id == clinic.alice.id
    assert triage.kind_label("visit_request") == "Visit request"


# --- details and booking from the request (issue 12) ------------------------------------------


def _request(session, now, clinic, **fields):
    return visit_requests.request_visit(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        visit_type=fields.pop("visit_type", "follow_up"),
        reason=fields.pop("reason", "Knee pain after a fall"),
        **fields,
    )


def test_an_empty_visit_request_is_refused_in_plain_words_and_nothing_is_filed(
    session, now, clinic
):
    with pytest.raises(InvalidInput, match="Please tell us what the visit is for"):
        _request(session, now, clinic, reason="   ")
    session.rollback()
    assert session.exec(select(VisitRequest)).all() == []
    assert session.exec(select(TriageItem)).all() == []


def test_staff_read_the_requests_details(session, now, clinic):
    _request(
        session,
        now,
        clinic,
        practitioner_id=clinic.smith.id,
        mode="video",
        preferred_days=[2, 0],
        preferred_parts=["afternoon", "morning"],
        preferred_times="Not before 10",
    )
    item = session.exec(select(TriageItem)).one()
    assert item.summary == "Follow-up visit: Knee pain after a fall"
    view = visit_requests.request_for_item(clinic.staff, item.id, session=session, now=now)
    assert view.request.reason == "Knee pain after a fall"
    assert view.request.preferred_times == "Not before 10"
    assert view.provider_name == "Dr. Smith"
    assert view.preferences == "Monday, Wednesday · Mornings, Afternoons"
    assert view.patient_name == "Alice Ames"
    with pytest.raises(NotAllowed):
        visit_requests.request_for_item(clinic.alice_user, item.id, session=session, now=now)


def test_the_slot_picker_offers_only_times_that_suit_the_patient(session, now, clinic):
    request = _request(
        session,
        now,
        clinic,
        practitioner_id=clinic.jones.id,
        preferred_days=[4],
        preferred_parts=["morning"],
    )
    slots = visit_requests.slots_for_request(clinic.staff, request, session=session, now=now)
    assert slots
    tz = get_settings().tz
    assert {s.practitioner_id for s in slots} == {clinic.jones.id}
    assert {s.start.astimezone(tz).weekday() for s in slots} == {4}
    assert all(s.start.astimezone(tz).hour < 12 for s in slots)
    everything = visit_requests.slots_for_request(
        clinic.staff, request, session=session, now=now, use_preferences=False
    )
    assert {s.practitioner_id for s in everything} == {clinic.smith.id, clinic.jones.id}


def test_booking_from_the_request_closes_it_and_tells_the_patient(session, now, clinic):
    request = _request(session, now, clinic, preferred_days=[3])
    item = session.exec(select(TriageItem)).one()
    slot = visit_requests.slots_for_request(clinic.staff, request, session=session, now=now)[0]
    visit = visit_requests.book_from_request(
        clinic.staff,
        item.id,
        item.version,
        session=session,
        now=now,
        practitioner_id=slot.practitioner_id,
        start=slot.start,
    )
    session.expire_all()
    assert session.get(Booking, visit.id).visit_type == "follow_up"
    row = session.get(VisitRequest, request.id)
    assert (row.status, row.booking_id) == ("scheduled", visit.id)
    assert session.get(TriageItem, item.id).status == "closed"
    note = session.exec(select(Notification)).one()
    assert note.text.startswith("Your visit request was booked: Follow-up visit with Dr.")
    assert note.link_page == "appointments"
    with pytest.raises(InvalidInput, match="already handled"):
        visit_requests.book_from_request(
            clinic.staff,
            item.id,
            item.version + 1,
            session=session,
            now=now,
            practitioner_id=slot.practitioner_id,
            start=slot.start + timedelta(days=7),
        )


def test_a_taken_slot_leaves_the_request_open_and_nothing_booked(session, now, clinic):
    request = _request(session, now, clinic)
    item = session.exec(select(TriageItem)).one()
    slot = visit_requests.slots_for_request(clinic.staff, request, session=session, now=now)[0]
    booking.book(
        clinic.bob_user,
        session=session,
        now=now,
        patient_id=clinic.bob.id,
        practitioner_id=slot.practitioner_id,
        start=slot.start,
        visit_type="follow_up",
    )
    with pytest.raises(SlotTaken):
        visit_requests.book_from_request(
            clinic.staff,
            item.id,
            item.version,
            session=session,
            now=now,
            practitioner_id=slot.practitioner_id,
            start=slot.start,
        )
    session.rollback()
    session.expire_all()
    assert session.get(VisitRequest, request.id).status == "open"
    assert session.get(TriageItem, item.id).status != "closed"
    assert session.exec(select(Notification)).all() == []
