"""End-to-end: My data's "Download PDF" in real Chromium serves a PDF of the signed-in patient's
summary, and the download is in the access log."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlmodel import Session, col, select

from db.models import AuditEvent, Patient
from portal.services import record_export
from tests.e2e.helpers import open_page, settled, sign_in_patient, user_named

pytestmark = pytest.mark.browser


def test_my_data_downloads_the_summary_as_a_pdf(portal_url, portal_db, browser_page, shot):
    page = browser_page
    sign_in_patient(page, portal_url)
    open_page(page, "My data")
    button = page.get_by_role("button", name="Download PDF")
    expect(button).to_be_visible()
    settled(page)
    clicked_at = datetime.now(UTC)

    with page.expect_download() as download_info:
        button.click()
    download = download_info.value

    assert download.suggested_filename.endswith(".pdf")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    with Session(portal_db) as session:
        user = user_named(session, "patient")
        patient = session.get(Patient, user.patient_id)
        assert f"Health summary: {patient.display_name}" in text
        [event] = session.exec(
            select(AuditEvent).where(
                AuditEvent.category == record_export.EXPORTED_RECORD,
                AuditEvent.user_id == user.id,
                col(AuditEvent.at) >= clicked_at - timedelta(seconds=1),
            )
        ).all()
    assert event.detail == "PDF summary, all dates"
    shot(page, "pdf-downloaded")
