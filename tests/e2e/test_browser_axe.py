"""End-to-end (issue 12, accessibility): axe-core on every page of the menu of every demo role
(each tab shown, every expander open), and on the sign-in screen. Any critical or serious
violation our code causes fails the test; the ones Streamlit causes are matched by
tests/e2e/axe_scan.STREAMLIT_CAUSED and counted in test-output/e2e/axe/<role>.json
(docs/ACCESSIBILITY.md)."""

import re

import pytest
from playwright.sync_api import expect

from components.navigation import PAGES, landing_page, menu_for
from db.models import Role
from portal.config import PROJECT_ROOT
from tests.e2e.axe_scan import describe, ours, save_report, scan
from tests.e2e.helpers import (
    enrol_mfa,
    settled,
    sign_in,
    sign_in_patient,
    signed_in,
)

pytestmark = pytest.mark.browser

REPORTS = PROJECT_ROOT / "test-output" / "e2e" / "axe"
DEMO_USERS = {
    "patient": Role.PATIENT,
    "caregiver": Role.PROXY,
    "drpatel": Role.CLINICIAN,
    "nurse": Role.NURSE,
    "frontdesk": Role.FRONT_DESK,
    "admin": Role.ADMIN,
}


def _sign_in(page, url, username, authenticators) -> dict[str, list]:
    """Sign in as the demo user; for staff, the two-step screen on the way (enrolment on the
    user's first sign-in in this server, else the code) is scanned too."""
    role = DEMO_USERS[username]
    if role == Role.PATIENT:
        sign_in_patient(page, url)
        return {}
    sign_in(page, url, username)
    if role == Role.PROXY:
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        signed_in(page)
        return {}
    if username not in authenticators:
        expect(page.get_by_text("Set up two-step sign-in")).to_be_visible()
        settled(page)
        screens = {"two_step_enrol": scan(page)}
        authenticators[username] = enrol_mfa(page)
    else:
        code = page.get_by_label("Code", exact=True)
        expect(code).to_be_visible()
        settled(page)
        screens = {"two_step_code": scan(page)}
        code.fill(authenticators[username].code())
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    signed_in(page)
    return screens


def _visit(page, name: str, *, default: bool) -> None:
    """Open a page by its menu link and wait until its run is over. The role's default page
    lives at the site's root address."""
    settled(page)
    menu = page.get_by_test_id("stSidebarNavItems")
    menu.get_by_role("link", name=PAGES[name].title, exact=True).click()
    page.wait_for_url(re.compile(rf"/{name}$" + (r"|:\d+/?$" if default else "")))
    settled(page)


# More expanders than any page draws: the bound of a loop that opens one at a time.
MAX_EXPANDERS = 40


def _open_expanders(page) -> None:
    """Open every visible closed expander (opening one can show more)."""
    closed = page.get_by_test_id("stMain").locator("details:not([open]) > summary")
    for _ in range(MAX_EXPANDERS):
        visible = closed.filter(visible=True)
        if visible.count() == 0:
            return
        visible.first.click()


def _scan_every_view(page) -> tuple[list, int]:
    """The page with its expanders open, and each of its tabs shown in turn (axe skips what is
    hidden); an element found in several views counts once. Also: how many views were scanned."""
    _open_expanders(page)
    findings, views = scan(page), 1
    tabs = page.get_by_test_id("stMain").get_by_role("tab")
    for index in range(tabs.count()):
        tab = tabs.nth(index)
        if not tab.is_visible() or tab.get_attribute("aria-selected") == "true":
            continue
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        _open_expanders(page)
        findings += scan(page)
        views += 1
    unique = {(f.rule, f.target, f.html): f for f in findings}
    return list(unique.values()), views


def _check(pages: dict) -> None:
    problems = [describe(name, f) for name, findings in pages.items() for f in ours(findings)]
    assert not problems, "Critical/serious accessibility violations:\n" + "\n".join(problems)


def test_sign_in_screen_has_no_violations_of_ours(portal_url, browser_page):
    page = browser_page
    page.goto(portal_url)
    expect(page.get_by_label("Username", exact=True)).to_be_visible()
    settled(page)
    pages = {"sign_in": scan(page)}
    page.get_by_role("tab", name="Activate my account or reset my password").click()
    expect(page.get_by_label("Code from the clinic")).to_be_visible()
    pages["activate_account"] = scan(page)
    save_report(REPORTS / "signed_out.json", "signed out", pages, dict.fromkeys(pages, 1))
    _check(pages)


@pytest.mark.parametrize("username", list(DEMO_USERS))
def test_every_page_of_the_role_has_no_violations_of_ours(
    portal_url, browser_page, authenticators, username
):
    page = browser_page
    pages = _sign_in(page, portal_url, username, authenticators)
    menu = [name for names in menu_for(DEMO_USERS[username]).values() for name in names]
    views = dict.fromkeys(pages, 1)
    for name in menu:
        _visit(page, name, default=name == landing_page(DEMO_USERS[username]))
        pages[name], views[name] = _scan_every_view(page)
    save_report(REPORTS / f"{username}.json", username, pages, views)
    _check(pages)
