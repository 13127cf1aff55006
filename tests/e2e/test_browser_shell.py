"""End-to-end: the shell every page runs inside, in real Chromium. A shared tab keeps nothing of
the last person; a deep link on a freshly started server meets the sign-in gate; a tab whose
session ended downloads nothing; sign-in never loses what was typed."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from db.models import AuditEvent
from portal.services import record_export
from tests.e2e.conftest import serve
from tests.e2e.helpers import (
    DEMO_PASSWORD,
    PATIENT_HOME,
    open_page,
    settled,
    sign_in,
    sign_in_patient,
    sign_in_staff,
    signed_in,
    user_named,
)

pytestmark = pytest.mark.browser

KEY_HINT = "Cannot scan? Enter this key by hand:"


def _sign_out(page) -> None:
    settled(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def _code_texts(page) -> list[str]:
    """The texts of the code boxes, once the run that draws them is over."""
    settled(page)
    return [c.inner_text().strip() for c in page.locator("[data-testid='stCode'] code").all()]


def test_the_next_person_on_a_shared_tab_sees_nothing_of_the_last(
    portal_url, browser_page, authenticators, shot
):
    page = browser_page
    # A patient starts setting up two-step sign-in: a new secret key is on the screen.
    sign_in_patient(page, portal_url)
    open_page(page, "Account security")
    expect(page.get_by_text(KEY_HINT)).to_be_visible()
    expect(page.locator("[data-testid='stCode'] code").first).to_be_visible()
    [patients_key] = _code_texts(page)
    shot(page, "patient-key-shown")
    _sign_out(page)

    # The caregiver signs in on the same tab and opens the same page: a key of their own.
    sign_in(page, None, "caregiver")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    signed_in(page)
    open_page(page, "Account security")
    expect(page.locator("[data-testid='stCode'] code").first).to_be_visible()
    assert patients_key not in _code_texts(page)
    assert patients_key not in page.content()
    shot(page, "caregiver-sees-own-key")
    _sign_out(page)

    # The front desk makes new recovery codes (after the password), then leaves the PC.
    sign_in_staff(page, None, "frontdesk", authenticators)
    open_page(page, "Account security")
    page.get_by_text("Make new recovery codes").first.click()
    page.get_by_label("Current password (or a code from your app)").first.fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Make new recovery codes").click()
    expect(page.get_by_text("Save these recovery codes")).to_be_visible()
    expect(page.locator("[data-testid='stCode'] code").first).to_be_visible()
    codes = _code_texts(page)[0].split()
    assert len(codes) == 10
    shot(page, "front-desk-codes")
    _sign_out(page)

    # The nurse signs in at the same PC and opens the same page: none of those codes.
    sign_in_staff(page, None, "nurse", authenticators)
    open_page(page, "Account security")
    expect(page.get_by_role("heading", name="Account security")).to_be_visible()
    settled(page)
    content = page.content()
    assert not [code for code in codes if code in content]
    expect(page.get_by_text("Save these recovery codes")).to_have_count(0)
    shot(page, "nurse-sees-nothing-of-front-desk")


def test_a_deep_link_on_a_freshly_started_server_meets_the_sign_in_screen(
    portal_state, browser_page, shot
):
    page = browser_page
    with serve(portal_state, "fresh-server.log") as fresh:
        # Nobody has opened "/" on this server yet.
        page.goto(f"{fresh.url}/audit_log")
        expect(page.get_by_label("Username", exact=True)).to_be_visible()
        settled(page)
        expect(page.get_by_role("navigation")).to_have_count(0)
        for name in ("Audit log", "Users and roles", "EHR sync", "Messages", "Triage inbox"):
            expect(page.get_by_text(name, exact=True)).to_have_count(0)
        shot(page, "fresh-server-deep-link")
        # A patient who signs in there lands on their home, never on the admin page.
        sign_in(page, None, "patient")
        expect(page.get_by_text(PATIENT_HOME)).to_be_visible()
        expect(page.get_by_role("heading", name="Audit log")).to_have_count(0)
        shot(page, "patient-home-not-audit-log")


def test_a_tab_whose_session_ended_downloads_nothing(portal_url, portal_db, browser_page, shot):
    page = browser_page
    sign_in_patient(page, portal_url)
    open_page(page, "My data")
    download = page.get_by_role("button", name="Download FHIR file (.json)")
    expect(download).to_be_visible()
    settled(page)
    # The password is changed elsewhere: every earlier session of this account ends.
    ended_at = datetime.now(UTC)
    with Session(portal_db) as session:
        user = user_named(session, "patient")
        user.sessions_valid_after = ended_at
        session.add(user)
        session.commit()
    downloads = []
    page.on("download", lambda file: downloads.append(file))
    download.click()
    page.wait_for_timeout(5_000)  # long enough for a file to arrive, if one were served
    assert downloads == []
    with Session(portal_db) as session:
        exports = session.exec(
            select(AuditEvent).where(
                AuditEvent.category == record_export.EXPORTED_RECORD,
                col(AuditEvent.at) >= ended_at - timedelta(seconds=1),
            )
        ).all()
    assert exports == []
    shot(page, "no-download")


def test_thirty_sign_ins_in_a_row_never_lose_a_keystroke(portal_url, browser_page):
    page = browser_page
    for attempt in range(30):
        # Half on a freshly loaded page, half on the tab's sign-in screen after signing out.
        sign_in(page, portal_url if attempt % 2 == 0 else None, "patient")
        expect(page.get_by_text(PATIENT_HOME)).to_be_visible()
        _sign_out(page)
