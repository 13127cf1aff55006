"""triage.item_of_kind and request_of_item: the one lookup of "the inbox item (and the request)
behind this request panel"."""

import pytest

from db.models import Role, VisitRequest
from portal.errors import NotFound
from portal.services import triage
from tests.factories import create_patient, create_user


def test_an_item_of_the_kind_is_found_and_another_kind_or_none_is_refused(session, now):
    patient = create_patient(session)
    item = triage.open_item(
        session=session,
        kind="refill",
        ref_id=41,
        patient_id=patient.id,
        summary="Metformin",
        actor=None,
        now=now,
    )
    session.commit()
    assert triage.item_of_kind(session, item.id, "refill", "a refill request").ref_id == 41
    with pytest.raises(NotFound, match="^That inbox item is not a message.$"):
        triage.item_of_kind(session, item.id, "message", "a message")
    with pytest.raises(NotFound, match="not a refill request"):
        triage.item_of_kind(session, item.id + 1, "refill", "a refill request")


def test_the_request_behind_an_item_is_found_and_a_gone_one_is_named(session, now):
    patient = create_patient(session)
    request = VisitRequest(
        patient_id=patient.id, visit_type="follow_up", reason="Knee", created_at=now
    )
    item = triage.file_request(
        request,
        kind="visit_request",
        summary="Follow-up",
        actor=create_user(session, Role.PATIENT, patient=patient),
        audit_category="appointments",
        audit_action="visit_request",
        session=session,
        now=now,
    )
    session.commit()
    found_item, found = triage.request_of_item(
        session, item.id, "visit_request", VisitRequest, "visit request"
    )
    assert (found_item.id, found.id) == (item.id, request.id)
    with pytest.raises(NotFound, match="^That inbox item is not a refill request.$"):
        triage.request_of_item(session, item.id, "refill", VisitRequest, "refill request")
    session.delete(request)
    session.commit()
    with pytest.raises(NotFound, match="^That visit request is no longer there.$"):
        triage.request_of_item(session, item.id, "visit_request", VisitRequest, "visit request")
