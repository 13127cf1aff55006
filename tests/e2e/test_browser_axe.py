"""End-to-end (issue 12, accessibility): axe-core on every page of the menu of every demo role,
and on the sign-in screen. Any critical or serious violation our code causes fails the test; the
ones Streamlit causes are matched by tests/e2e/axe_scan.STREAMLIT_CAUSED and counted in
test-output/e2e/axe/<role>.json (docs/ACCESSIBILITY.md)."""

import re

import pytest
from playwright.sync_api import expect

from components.navigation import PAGES, menu_for
from db.models import Role
from portal.config import PROJECT_ROOT
from tests.e2e.axe_scan import describe, ours, save_report, scan
from tests.e2e.helpers import (
    settled,
    sign_in,
    sign_in_patient,
    sign_in_staff,
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


def _sign_in(page, url, username, authenticators) -> None:
    role = DEMO_USERS[username]
    if role == Role.PATIENT:
        sign_in_patient(page, url)
    elif role == Role.PROXY:
        sign_in(page, url, username)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        signed_in(page)
    else:
        sign_in_staff(page, url, username, authenticators)


def _visit(page, name: str, *, default: bool) -> None:
    """Open a page by its menu link and wait until its run is over. The role's default page
    lives at the site's root address."""
    settled(page)
    menu = page.get_by_test_id("stSidebarNavItems")
    menu.get_by_role("link", name=PAGES[name].title, exact=True).click()
    page.wait_for_url(re.compile(rf"/{name}$" + (r"|:\d+/?$" if default else "")))
    settled(page)


def _check(pages: dict) -> None:
    problems = [describe(name, f) for name, findings in pages.items() for f in ours(findings)]
    assert not problems, "Critical/serious accessibility violations:\n" + "\n".join(problems)


def test_sign_in_screen_has_no_violations_of_ours(portal_url, browser_page):
    page = browser_page
    page.goto(portal_url)
    expect(page.get_by_label("Username", exact=True)).to_be_visible()
    settled(page)
    pages = {"sign_in": scan(page)}
    save_report(REPORTS / "signed_out.json", "signed out", pages)
    _check(pages)


@pytest.mark.parametrize("username", list(DEMO_USERS))
def test_every_page_of_the_role_has_no_violations_of_ours(
    portal_url, browser_page, authenticators, username
):
    page = browser_page
    _sign_in(page, portal_url, username, authenticators)
    pages = {}
    menu = [name for names in menu_for(DEMO_USERS[username]).values() for name in names]
    for name in menu:
        _visit(page, name, default=name == menu[0])
        pages[name] = scan(page)
    save_report(REPORTS / f"{username}.json", username, pages)
    _check(pages)
