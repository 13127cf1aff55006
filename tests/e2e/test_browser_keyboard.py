"""End-to-end (issue 12, accessibility): a patient who uses only the keyboard signs in, books a
visit and sends a message. Every input is a key press (Tab, Shift+Tab, Enter, Space, arrows,
typing); the test only reads the page to know where the focus is, and checks the database."""

import uuid

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, col, func, select

from db.models import Booking, Message
from tests.e2e.helpers import (
    DEMO_PASSWORD,
    PATIENT_HOME,
    expect_confirmation,
    settled,
    signed_in,
    user_named,
)

pytestmark = pytest.mark.browser

# More than any page of the patient's has focusable elements before the one a test wants.
MAX_TABS = 120


def _has_focus(target: Locator) -> bool:
    return target.evaluate(
        "el => el === document.activeElement || el.contains(document.activeElement)"
    )


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab backwards) until ``target`` has the keyboard focus, as a keyboard
    user does; fails if it is never reached (it is not in the tab order)."""
    expect(target).to_be_visible()
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        if _has_focus(target):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{target} is not reachable with {key}")


def _bookings(engine, patient_id: int) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(Booking)
            .where(Booking.patient_id == patient_id, col(Booking.status) == "booked")
        ).one()


def _messages_with(engine, body: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Message).where(Message.body == body)).all())


def test_a_keyboard_user_signs_in_books_a_visit_and_sends_a_message(
    portal_url, portal_db, browser_page, shot
):
    page = browser_page
    with Session(portal_db) as session:
        patient_id = user_named(session, "patient").patient_id
    booked_before = _bookings(portal_db, patient_id)

    # Sign in: Tab to the username, type, Tab to the password, type, Enter sends the form.
    page.goto(portal_url)
    username = page.get_by_label("Username", exact=True)
    expect(username).to_be_visible()
    settled(page)
    tab_to(page, username)
    page.keyboard.type("patient")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text(PATIENT_HOME)).to_be_visible()
    signed_in(page)
    shot(page, "signed-in")

    # Appointments from the menu, then the "Book a visit" tab with the arrow keys.
    menu = page.get_by_test_id("stSidebarNavItems")
    tab_to(page, menu.get_by_role("link", name="Appointments", exact=True))
    page.keyboard.press("Enter")
    page.wait_for_url("**/appointments")
    settled(page)
    tab_to(page, page.get_by_role("tab", name="Upcoming"))
    page.keyboard.press("ArrowRight")
    book_tab = page.get_by_role("tab", name="Book a visit")
    expect(book_tab).to_be_focused()
    page.keyboard.press("Enter")
    expect(book_tab).to_have_attribute("aria-selected", "true")
    # The first open time is chosen; the button books it.
    book = page.get_by_role("button", name="Book this time")
    tab_to(page, book)
    page.keyboard.press("Enter")
    expect_confirmation(page, "Your visit is booked.")
    settled(page)
    shot(page, "booked")
    assert _bookings(portal_db, patient_id) == booked_before + 1

    # Messages: open "Write a new message" with Enter, type, and send with Enter.
    subject, body = f"Keyboard only {uuid.uuid4().hex[:6]}", f"Typed, not clicked {uuid.uuid4()}"
    tab_to(page, page.get_by_role("link", name="Messages", exact=True), backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/messages")
    settled(page)
    tab_to(page, page.locator("summary", has_text="Write a new message"))
    page.keyboard.press("Enter")
    subject_box = page.get_by_label("Subject", exact=True)
    tab_to(page, subject_box)
    page.keyboard.type(subject)
    tab_to(page, page.get_by_label("Message", exact=True))
    page.keyboard.type(body)
    tab_to(page, page.get_by_role("button", name="Send message"))
    settled(page)
    page.keyboard.press("Enter")
    sent = "Sent. The clinic will reply here; we will notify you."
    expect_confirmation(page, sent)
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    settled(page)
    shot(page, "sent")
    assert _messages_with(portal_db, body) == 1
