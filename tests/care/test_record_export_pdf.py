"""My data: the printable summary as a PDF (fpdf2). It is a real PDF whose text (read back with
pypdf) holds the patient's name, in any alphabet, and their results; access and audit are the
HTML summary's."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import select

from components.record_download import deferred
from db.models import AuditEvent
from portal.errors import NotYourRecord, PortalError
from portal.services import record_export
from portal.services.record_export import DateRange, summary_pdf
from tests.factories import create_observation, create_patient, create_user
from tests.factories_records import create_condition, create_medication
from tests.harness import session_token
from tests.requests.helpers import make_clinic


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_summary_holds_the_name_and_the_results(session, now):
    clinic = make_clinic(session)
    create_condition(session, clinic.alice, display="Type 2 diabetes mellitus")
    create_medication(session, clinic.alice, display="Metformin 500 MG Oral Tablet")
    create_observation(
        session, clinic.alice, value=7.9, effective_at=datetime(2026, 4, 1, tzinfo=UTC)
    )

    file = record_export.export_summary_pdf(
        clinic.proxy, clinic.alice.id, DateRange(), session=session, now=now
    )

    assert file.content.startswith(b"%PDF-")
    assert file.mime == "application/pdf"
    assert file.file_name == "health-record-alice-archer-20261124.pdf"
    text = pdf_text(file.content)
    assert "Health summary: Alice Archer" in text
    assert "Hemoglobin A1c" in text and "7.9" in text and "High" in text
    assert "Type 2 diabetes mellitus" in text and "Metformin 500 MG Oral Tablet" in text
    assert "No known allergies." in text  # empty sections say so, as in the HTML


def test_unicode_names_print_as_written(session, now):
    zoe = create_patient(session, given_name="Zoë", family_name="Łukasz")
    user = create_user(session, "patient", patient=zoe)
    create_condition(session, zoe, display="Ménière’s disease — „follow-up” 血圧")

    file = record_export.export_summary_pdf(user, zoe.id, DateRange(), session=session, now=now)

    text = pdf_text(file.content)
    assert "Health summary: Zoë Łukasz" in text
    assert "Ménière’s disease — „follow-up”" in text
    assert file.file_name == "health-record-zoë-łukasz-20261124.pdf"


def test_another_patients_pdf_is_refused_and_the_refusal_audited(session, now):
    clinic = make_clinic(session)
    with pytest.raises(NotYourRecord):
        record_export.export_summary_pdf(
            clinic.bob_user, clinic.alice.id, DateRange(), session=session, now=now
        )
    denied = session.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).one()
    assert (denied.category, denied.patient_id) == (
        record_export.EXPORTED_RECORD,
        clinic.alice.id,
    )


def test_pdf_download_is_audited_like_the_html_one(session, now):
    clinic = make_clinic(session)
    record_export.export_summary_pdf(
        clinic.alice_user, clinic.alice.id, DateRange(), session=session, now=now
    )
    [event] = session.exec(
        select(AuditEvent).where(AuditEvent.category == record_export.EXPORTED_RECORD)
    ).all()
    assert (event.action, event.user_id, event.patient_id, event.detail) == (
        "export",
        clinic.alice_user.id,
        clinic.alice.id,
        "PDF summary, all dates",
    )


def test_without_a_unicode_font_the_pdf_is_refused_in_plain_words(session, now, monkeypatch):
    clinic = make_clinic(session)
    missing = Path("/nonexistent/font.ttf")
    monkeypatch.setattr(summary_pdf, "FONT_CANDIDATES", ((missing, missing),))

    with pytest.raises(PortalError) as refused:
        record_export.export_summary_pdf(
            clinic.alice_user, clinic.alice.id, DateRange(), session=session, now=now
        )

    assert "Download the printable summary (.html) instead" in refused.value.user_message
    exported = select(AuditEvent).where(AuditEvent.action == "export")
    assert session.exec(exported).all() == []


def test_every_demo_patient_gets_a_pdf_with_their_name(session, now):
    from db.models import Patient, Role, User
    from portal.demo.seed import seed_demo_clinic

    seed_demo_clinic(session=session, n_patients=3, seed=11, now=now, password="Demo-pass-word-1")
    admin = session.exec(select(User).where(User.role == Role.ADMIN)).first()
    for patient in session.exec(select(Patient)).all():
        file = record_export.export_summary_pdf(
            admin, patient.id, DateRange(), session=session, now=now
        )
        text = pdf_text(file.content)
        assert f"Health summary: {patient.display_name}" in text


# --- the page ---------------------------------------------------------------------------------


def test_my_data_offers_the_pdf_next_to_the_printable_summary(open_page, session):
    clinic = make_clinic(session)
    at = open_page(clinic.alice_user.username, "pages/my_data.py")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "Download FHIR file (.json)",
        "Download printable summary (.html)",
        "Download PDF",
    ]
    exports = select(AuditEvent).where(AuditEvent.category == record_export.EXPORTED_RECORD)
    assert session.exec(exports).all() == []  # drawing the button exports nothing


def test_pdf_download_callable_exports_and_audits_on_click(engine, session):
    clinic = make_clinic(session)
    produce = deferred(
        record_export.export_summary_pdf,
        clinic.alice.id,
        DateRange(),
        token=session_token(clinic.proxy.username),
    )
    assert produce().startswith(b"%PDF-")
    event = session.exec(
        select(AuditEvent).where(AuditEvent.category == record_export.EXPORTED_RECORD)
    ).one()
    assert (event.user_id, event.patient_id, event.detail) == (
        clinic.proxy.id,
        clinic.alice.id,
        "PDF summary, all dates",
    )


def test_my_data_says_so_when_the_server_cannot_make_a_pdf(open_page, session, monkeypatch):
    clinic = make_clinic(session)
    missing = Path("/nonexistent/font.ttf")
    monkeypatch.setattr(summary_pdf, "FONT_CANDIDATES", ((missing, missing),))
    at = open_page(clinic.alice_user.username, "pages/my_data.py")
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download PDF" not in labels
    captions = " ".join(c.value for c in at.caption)
    assert "The PDF summary is not available on this server" in captions
