"""End-to-end: a session ends on the server. A cookie copied before sign-out opens nothing
afterwards, and a session left idle past the limit signs itself out in the open browser."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.config import get_settings
from tests.e2e.helpers import (
    PATIENT_HOME,
    age_live_sessions,
    idle_limit,
    latest_session,
    sign_in_patient,
)

pytestmark = pytest.mark.browser

IDLE_NOTICE = "You were signed out after a period without activity"


def _login_cookie(context) -> dict:
    name = get_settings().cookie_name
    cookies = [c for c in context.cookies() if c["name"] == name]
    assert cookies, f"the portal did not set its {name} cookie"
    return cookies[0]


def _open_with_cookie(browser, url: str, cookie: dict):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(url)
    return context, page


def test_a_cookie_replayed_after_sign_out_is_refused(portal_url, browser, browser_page, shot):
    page = browser_page
    sign_in_patient(page, portal_url)  # returns once the login cookie is written
    cookie = _login_cookie(page.context)
    shot(page, "signed-in")

    # Before sign-out the copied cookie does open the record in another browser...
    context, other = _open_with_cookie(browser, portal_url, cookie)
    expect(other.get_by_text(PATIENT_HOME)).to_be_visible()
    shot(other, "copied-cookie-works-before-sign-out")
    context.close()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # The patient's menu goes too (the next person at this computer sees only the sign-in).
    expect(page.get_by_role("link", name="Messages")).to_have_count(0)
    shot(page, "signed-out")

    # ...and after it, the same cookie gets the sign-in form, not the patient's home.
    context, replay = _open_with_cookie(browser, portal_url, cookie)
    expect(replay.get_by_role("button", name="Sign in")).to_be_visible()
    expect(replay.get_by_text(PATIENT_HOME)).to_have_count(0)
    expect(replay.get_by_role("button", name="Sign out")).to_have_count(0)
    shot(replay, "replayed-cookie-refused")
    context.close()


def test_an_idle_session_signs_out_in_the_open_browser(portal_url, portal_db, browser_page, shot):
    page = browser_page
    sign_in_patient(page, portal_url)
    shot(page, "signed-in")

    # Nobody touches the page; the server's clock says it has been idle too long.
    assert age_live_sessions(portal_db, "patient", idle_limit() + timedelta(minutes=1)) >= 1
    # The idle watch (every 15 s) notices without any click and shows the sign-in screen.
    expect(page.get_by_text(IDLE_NOTICE)).to_be_visible(timeout=40_000)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_text(PATIENT_HOME)).to_have_count(0)
    expect(page.get_by_role("link", name="Messages")).to_have_count(0)
    assert latest_session(portal_db, "patient").end_reason == "idle"
    shot(page, "timed-out")
