"""End-to-end: hostile text planted in the real portal's database (tests/hostile_text.py) points
images and links at a tiny HTTP listener on 127.0.0.1. A nurse opens the triage inbox, the
message thread, the refill and referral items and the refill queue; the patient opens Home,
Messages, Medications and Profile. The listener must see no request, the pages hold no image or
link to it, and every string shows as written (the invisible word joiners that stop Streamlit's
autolinking aside)."""

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from components.plain_text import WORD_JOINER
from portal.passwords import hash_password
from tests.e2e.helpers import (
    DEMO_PASSWORD,
    choose,
    open_page,
    settled,
    sign_in_patient,
    sign_in_staff,
)
from tests.hostile_text import Planted, plant

pytestmark = pytest.mark.browser

# Long enough for a browser to have asked for an image the page holds (they load in parallel).
IMAGE_GRACE_MS = 1500


class Listener:
    """Every request that reaches 127.0.0.1:<port>, by path."""

    def __init__(self):
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                listener.requests.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def planted(portal_db, listener) -> Planted:
    with Session(portal_db, expire_on_commit=False) as session:
        return plant(
            session, host=listener.host, password_hash=hash_password(DEMO_PASSWORD, rounds=4)
        )


def _main_text(page: Page) -> str:
    return page.get_by_test_id("stApp").inner_text().replace(WORD_JOINER, "")


def assert_inert(page: Page, listener: Listener, planted: Planted, *tags: str) -> None:
    """The strings of ``tags`` are on the page as written; nothing points at the listener."""
    settled(page)
    page.wait_for_timeout(IMAGE_GRACE_MS)
    assert listener.requests == []
    port = listener.host.split(":")[1]
    assert page.locator(f"img[src*=':{port}']").count() == 0
    assert page.locator(f"a[href*=':{port}']").count() == 0
    # (A heading's own "#..." anchor spells its text, "phish" included: a link within the page.)
    assert page.locator("a[href*='phish']:not([href^='#'])").count() == 0
    shown = " ".join(_main_text(page).split())
    for tag in tags:
        assert planted.strings[tag] in shown, (tag, planted.strings[tag])


def test_nurse_sees_hostile_requests_as_plain_text(
    portal_url, browser_page, authenticators, listener, planted, shot
):
    page = browser_page
    sign_in_staff(page, portal_url, "nurse", authenticators)
    open_page(page, "Triage inbox")
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible()

    # The select box shows the raw summary (plain text), the heading its escaped twin.
    choose(page, "Open item", "ZQsubject")
    expect(page.get_by_role("combobox", name="Open item", exact=True)).to_have_value(
        f"#{_item_number(page)} · Message · {planted.strings['name']} Hostile · "
        f"Care team: {planted.strings['subject']}"
    )
    expect(page.get_by_test_id("stText").get_by_text(planted.strings["body"])).to_be_visible()
    assert_inert(page, listener, planted, "subject", "body", "file")
    shot(page, "message-item")

    choose(page, "Open item", "ZQmed")
    expect(page.get_by_text("Patient's note:")).to_be_visible()
    assert_inert(page, listener, planted, "med", "dose", "name", "pharmacy", "note")
    shot(page, "refill-item")

    choose(page, "Open item", "ZQreason")
    assert_inert(page, listener, planted)
    shot(page, "referral-item")

    choose(page, "Open item", f"Profile change · {planted.strings['name']}")
    assert_inert(page, listener, planted, "contact")

    open_page(page, "Refill queue")
    expect(page.get_by_role("heading", name="Refill queue")).to_be_visible()
    radio = page.get_by_test_id("stRadio").get_by_text("ZQname")
    expect(radio).to_be_visible()
    settled(page)
    radio.click()
    expect(page.get_by_text("Patient's note:")).to_be_visible()
    assert_inert(page, listener, planted, "med", "pharmacy", "note")
    shot(page, "refill-queue")


def _item_number(page: Page) -> str:
    value = page.get_by_role("combobox", name="Open item", exact=True).input_value()
    return value.split(" ", 1)[0].lstrip("#")


def test_patient_sees_their_hostile_text_as_plain_text(
    portal_url, browser_page, listener, planted, shot
):
    page = browser_page
    sign_in_patient(page, portal_url, planted.username)
    assert_inert(page, listener, planted, "user")
    shot(page, "home")

    open_page(page, "Messages")
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    expect(page.get_by_test_id("stText").get_by_text(planted.strings["body"])).to_be_visible()
    assert_inert(page, listener, planted, "subject", "body", "file")
    shot(page, "messages")

    open_page(page, "Medications and refills")
    expect(page.get_by_role("heading", name="Medications and refills")).to_be_visible()
    assert_inert(page, listener, planted, "med", "dose", "pharmacy")
    shot(page, "medications")

    open_page(page, "Profile")
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    assert_inert(page, listener, planted, "address", "contact")
    shot(page, "profile")
