"""End-to-end: a person signs in through Chromium and moves through the portal."""

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(url)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _enrol_mfa(page) -> str:
    """Staff must set up an authenticator on first sign-in: read the key, answer with its code."""
    expect(page.get_by_text("Set up two-step sign-in")).to_be_visible()
    secret = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_text("Save these recovery codes")).to_be_visible()
    page.get_by_role("button", name="I have saved my codes").click()
    return secret


def test_patient_signs_in_sees_results_and_signs_out(portal_url, browser_page):
    page = browser_page
    _sign_in(page, portal_url, "patient")
    expect(page.get_by_text("Upcoming visits")).to_be_visible()
    page.get_by_role("link", name="Test results").click()
    expect(page.get_by_text("Latest results").first).to_be_visible()
    # The trend chart is drawn (vega-embed) for the chosen test.
    expect(page.locator(".vega-embed").first).to_be_visible()
    # The staff lookup is not in a patient's navigation at all.
    expect(page.get_by_role("link", name="Patient lookup")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_wrong_password_gets_a_plain_message(portal_url, browser_page):
    page = browser_page
    _sign_in(page, portal_url, "patient", "not-the-password")
    expect(page.get_by_text("That username and password do not match")).to_be_visible()


def test_nurse_enrols_mfa_and_reaches_the_staff_pages(portal_url, browser_page):
    page = browser_page
    _sign_in(page, portal_url, "nurse")
    _enrol_mfa(page)
    expect(page.get_by_role("link", name="Patient lookup")).to_be_visible()
    expect(page.get_by_role("link", name="Triage inbox")).to_be_visible()
