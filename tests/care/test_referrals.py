"""Referrals: synced ServiceRequests as the patient reads them, and referral requests that land in
the triage inbox and close with it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent, Notification, ReferralRequest, ServiceRequest, TriageItem
from portal.errors import InvalidInput, NotAllowed, NotFound, NotYourRecord
from portal.services import referrals, triage
from tests.factories import create_practitioner
from tests.requests.helpers import make_clinic


def add_service_request(session, patient, **fields) -> ServiceRequest:
    row = ServiceRequest(
        fhir_id=fields.pop("fhir_id", f"sr-{patient.id}-{fields.get('specialty', 'x')}"),
        patient_id=patient.id,
        display=fields.pop("display", "Referral to cardiology"),
        specialty=fields.pop("specialty", "Cardiology"),
        performer_name=fields.pop("performer_name", "Valley Heart Clinic"),
        status=fields.pop("status", "active"),
        authored_on=fields.pop("authored_on", datetime(2026, 10, 1, 14, tzinfo=UTC)),
        **fields,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def test_patient_sees_synced_referrals_newest_first_with_plain_status(session, now):
    clinic = make_clinic(session)
    doctor = create_practitioner(session, name="Dr. Ruiz")
    add_service_request(
        session,
        clinic.alice,
        requester_id=doctor.id,
        occurrence=datetime(2026, 12, 3, 15, tzinfo=UTC),
        reason="Palpitations",
    )
    add_service_request(
        session,
        clinic.alice,
        specialty="Dermatology",
        status="completed",
        authored_on=datetime(2026, 3, 1, tzinfo=UTC),
    )
    add_service_request(session, clinic.alice, specialty="Neurology", status="entered-in-error")
    add_service_request(session, clinic.bob, specialty="Urology")

    overview = referrals.list_referrals(
        clinic.alice_user, clinic.alice.id, session=session, now=now
    )

    assert [(r.specialty, r.status) for r in overview.referrals] == [
        ("Cardiology", "Sent"),
        ("Dermatology", "Completed"),
    ]
    first = overview.referrals[0]
    assert (first.requested_by, first.reason, first.to) == (
        "Dr. Ruiz",
        "Palpitations",
        "Valley Heart Clinic",
    )
    assert first.appointment == datetime(2026, 12, 3, 15, tzinfo=UTC)
    event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.category, event.patient_id) == (referrals.VIEWED_REFERRALS, clinic.alice.id)


def test_patient_cannot_see_other_patients_referrals(session, now):
    clinic = make_clinic(session)
    with pytest.raises(NotYourRecord):
        referrals.list_referrals(clinic.bob_user, clinic.alice.id, session=session, now=now)


def test_referral_request_goes_to_triage_and_closes_with_the_item(session, now):
    clinic = make_clinic(session)
    request = referrals.request_referral(
        clinic.proxy,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        specialty="Dermatology",
        reason="  Mole that changed shape  ",
        preferred_provider="Dr. Skin",
    )
    assert (request.reason, request.status) == ("Mole that changed shape", "open")
    item = session.exec(select(TriageItem).where(TriageItem.kind == referrals.KIND)).one()
    assert item.summary == "Referral request: Dermatology: Mole that changed shape"
    assert triage.kind_label(referrals.KIND) == "Referral request"

    triage.change_status(
        clinic.nurse,
        item.id,
        item.version,
        "closed",
        "Referral sent to Dr. Skin",
        session=session,
        now=now + timedelta(hours=1),
    )
    session.refresh(request)
    assert request.status == "closed"
    overview = referrals.list_referrals(
        clinic.alice_user, clinic.alice.id, session=session, now=now
    )
    assert [(a.specialty, a.status) for a in overview.requests] == [("Dermatology", "closed")]


@pytest.mark.parametrize(
    ("specialty", "reason", "message"),
    [
        ("Astrology", "why not", "Please choose a specialty."),
        ("Cardiology", "   ", "Please tell us why you need the referral."),
        ("Cardiology", "x" * 2001, "Please shorten your note."),
    ],
)
def test_invalid_referral_requests_are_refused_and_nothing_is_stored(
    session, now, specialty, reason, message
):
    clinic = make_clinic(session)
    with pytest.raises(InvalidInput) as error:
        referrals.request_referral(
            clinic.alice_user,
            session=session,
            now=now,
            patient_id=clinic.alice.id,
            specialty=specialty,
            reason=reason,
        )
    assert error.value.user_message == message
    assert session.exec(select(ReferralRequest)).all() == []


def test_patient_cannot_request_a_referral_for_someone_else(session, now):
    clinic = make_clinic(session)
    with pytest.raises(NotYourRecord):
        referrals.request_referral(
            clinic.bob_user,
            session=session,
            now=now,
            patient_id=clinic.alice.id,
            specialty="Cardiology",
            reason="Chest pain",
        )
    assert session.exec(select(TriageItem)).all() == []


# --- the clinic's decision (issue 12) ---------------------------------------------------------


def _ask(session, clinic, now):
    request = referrals.request_referral(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        specialty="Dermatology",
        reason="Mole that changed shape",
        preferred_provider="Dr. Lee",
    )
    item = session.exec(select(TriageItem).where(TriageItem.kind == referrals.KIND)).one()
    return request, item


def test_staff_see_the_referral_request_and_approve_it_and_the_patient_is_told(session, now):
    clinic = make_clinic(session)
    request, item = _ask(session, clinic, now)
    shown = referrals.request_for_item(clinic.nurse, item.id, session=session, now=now)
    assert (shown.specialty, shown.reason, shown.preferred_provider) == (
        "Dermatology",
        "Mole that changed shape",
        "Dr. Lee",
    )
    referrals.decide_referral(
        clinic.nurse, item.id, item.version, approve=True, session=session, now=now
    )
    session.expire_all()
    row = session.get(ReferralRequest, request.id)
    assert (row.status, row.decided_by_user_id) == ("approved", clinic.nurse.id)
    assert session.get(TriageItem, item.id).status == "closed"
    note = session.exec(select(Notification)).one()
    assert (note.patient_id, note.text) == (
        clinic.alice.id,
        "Your referral request (Dermatology) was approved.",
    )
    asks = referrals.list_referrals(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert [a.status_words for a in asks.requests] == ["Approved"]


def test_declining_a_referral_needs_a_reason_which_the_patient_reads(session, now):
    clinic = make_clinic(session)
    request, item = _ask(session, clinic, now)
    with pytest.raises(InvalidInput, match="Please give the reason for declining"):
        referrals.decide_referral(
            clinic.nurse, item.id, item.version, approve=False, reason=" ", session=session, now=now
        )
    session.rollback()
    assert session.get(ReferralRequest, request.id).status == "open"
    referrals.decide_referral(
        clinic.nurse,
        item.id,
        item.version,
        approve=False,
        reason="Dr. Ruiz can remove it here; please book a visit.",
        session=session,
        now=now,
    )
    asks = referrals.list_referrals(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert [(a.status_words, a.decision_reason) for a in asks.requests] == [
        ("Declined", "Dr. Ruiz can remove it here; please book a visit.")
    ]
    note = session.exec(select(Notification)).one()
    assert note.text.endswith("was declined. Dr. Ruiz can remove it here; please book a visit.")
    # Decided once: a second decision (an old tab) is refused.
    with pytest.raises(InvalidInput, match="already decided"):
        referrals.decide_referral(
            clinic.nurse, item.id, item.version + 1, approve=True, session=session, now=now
        )


def test_patients_cannot_decide_referrals(session, now):
    clinic = make_clinic(session)
    _, item = _ask(session, clinic, now)
    with pytest.raises(NotAllowed):
        referrals.decide_referral(
            clinic.alice_user, item.id, item.version, approve=True, session=session, now=now
        )


def test_deciding_an_item_whose_referral_row_is_gone_is_refused_in_plain_words(session, now):
    clinic = make_clinic(session)
    _, item = _ask(session, clinic, now)
    item.ref_id = 999_999  # the request row it names no longer exists
    session.add(item)
    session.commit()
    with pytest.raises(NotFound, match="That referral request is no longer there."):
        referrals.decide_referral(
            clinic.nurse, item.id, item.version, approve=True, session=session, now=now
        )
