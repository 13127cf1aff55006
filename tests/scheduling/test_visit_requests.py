from sqlmodel import select

from db.models import TriageItem
from portal.services import triage
from portal.services.scheduling import visit_requests


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
