"""End-to-end: a person signs in through Chromium and moves through the portal."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import (
    DEMO_PASSWORD,
    open_page,
    send_sign_in,
    settled,
    sign_in_patient,
    sign_in_staff,
)

pytestmark = pytest.mark.browser


def test_patient_signs_in_sees_results_and_signs_out(portal_url, browser_page, shot):
    page = browser_page
    sign_in_patient(page, portal_url)
    shot(page, "home")
    open_page(page, "Test results")
    expect(page.get_by_text("Latest results").first).to_be_visible()
    # The trend chart is drawn (vega-embed) for the chosen test.
    expect(page.locator(".vega-embed").first).to_be_visible()
    shot(page, "results")
    # The staff lookup is not in a patient's navigation at all.
    expect(page.get_by_role("link", name="Patient lookup")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shot(page, "signed-out")


def test_wrong_password_gets_a_plain_message(portal_url, browser_page, shot):
    page = browser_page
    send_sign_in(page, portal_url, "patient", "not-the-password")
    expect(page.get_by_text("That username and password do not match")).to_be_visible()
    shot(page, "refused")


def test_nurse_signs_in_with_mfa_and_reaches_the_staff_pages(
    portal_url, browser_page, authenticators, shot
):
    page = browser_page
    # First sign-in of this server enrols the authenticator; a later one asks for its code.
    sign_in_staff(page, portal_url, "nurse", authenticators)
    expect(page.get_by_role("link", name="Patient lookup")).to_be_visible()
    expect(page.get_by_role("link", name="Triage inbox")).to_be_visible()
    shot(page, "staff-pages")


def test_a_deep_link_asks_to_sign_in_then_opens_that_page(portal_url, browser_page, shot):
    page = browser_page
    # Streamlit runs a fresh server's first script run in its pages-folder mode (every file in
    # pages/ listed and run without app.py); the sign-in screen's first run ends that mode.
    page.goto(portal_url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    settled(page)

    page.goto(f"{portal_url}/messages")
    expect(page.get_by_label("Username", exact=True)).to_be_visible()
    # No menu: neither the pages folder nor anyone's pages are listed to a signed-out visitor.
    expect(page.get_by_role("navigation")).to_have_count(0)
    shot(page, "sign-in-for-deep-link")
    page.get_by_label("Username", exact=True).fill("patient")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()
    expect(page).to_have_url(f"{portal_url}/messages")
    shot(page, "deep-link-opened")
