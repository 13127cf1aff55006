"""Opening a document from the record (portal/services/documents.py): access is checked for the
document's own patient and every open, and every refusal, is in the audit log."""

import pytest
from sqlmodel import select

from db.models import AuditEvent, Role
from portal.errors import NotFound, NotYourRecord
from portal.services.documents import NO_TEXT, OPENED_DOCUMENT, file_name, open_document
from tests.factories import create_patient, create_user, grant_proxy
from tests.factories_records import create_document


def _audit(session, user):
    return session.exec(
        select(AuditEvent.category, AuditEvent.outcome, AuditEvent.patient_id).where(
            AuditEvent.user_id == user.id
        )
    ).all()


def test_patient_opens_their_own_document_and_the_open_is_audited(session, now):
    alice = create_patient(session)
    me = create_user(session, Role.PATIENT, alice)
    doc = create_document(session, alice, title="Visit summary", text="Rest the knee.")
    opened = open_document(me, doc.id, session=session, now=now)
    assert (opened.title, opened.text, opened.patient_id) == (
        "Visit summary",
        "Rest the knee.",
        alice.id,
    )
    assert _audit(session, me) == [(OPENED_DOCUMENT, "success", alice.id)]


def test_another_patients_document_is_refused_and_the_refusal_audited(session, now):
    alice, bob = create_patient(session), create_patient(session)
    bob_user = create_user(session, Role.PATIENT, bob)
    alices_doc = create_document(session, alice, text="Alice's private note")
    with pytest.raises(NotYourRecord):
        open_document(bob_user, alices_doc.id, session=session, now=now)
    assert _audit(session, bob_user) == [(OPENED_DOCUMENT, "denied", alice.id)]


def test_caregiver_and_staff_may_open_a_granted_or_charted_document(session, now):
    alice = create_patient(session)
    doc = create_document(session, alice)
    carer = create_user(session, Role.PROXY)
    grant_proxy(session, carer, alice)
    nurse = create_user(session, Role.NURSE)
    for user in (carer, nurse):
        assert open_document(user, doc.id, session=session, now=now).document_id == doc.id


def test_missing_or_withdrawn_documents_are_not_found(session, now):
    alice = create_patient(session)
    me = create_user(session, Role.PATIENT, alice)
    withdrawn = create_document(session, alice, status="entered-in-error")
    for document_id in (withdrawn.id, 999_999):
        with pytest.raises(NotFound):
            open_document(me, document_id, session=session, now=now)


def test_a_document_without_text_says_so(session, now):
    alice = create_patient(session)
    me = create_user(session, Role.PATIENT, alice)
    doc = create_document(session, alice, text="  ", content_type="application/pdf")
    assert open_document(me, doc.id, session=session, now=now).text is None
    assert "ask the clinic for a copy" in NO_TEXT


def test_download_names_are_safe_whatever_the_title():
    assert file_name("Visit summary 2026-01-10", 7) == "visit-summary-2026-01-10-7.txt"
    assert file_name("../../etc/passwd", 3) == "etc-passwd-3.txt"
    assert file_name("", 4) == "document-4.txt"
