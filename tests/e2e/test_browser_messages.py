"""End-to-end: a patient reads a trend and writes to the care team; a nurse claims the message
and replies; the patient sees the reply. Each test prepares its own conversation (through the
browser or the portal's own services), so any one of them can run alone or in any order."""

import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from db.models import Message
from portal.services import messages, triage
from tests.e2e.helpers import (
    choose,
    expect_confirmation,
    open_page,
    settled,
    sign_in_patient,
    sign_in_staff,
    user_named,
)

pytestmark = pytest.mark.browser

NURSE_NAME = "Riley Thompson, RN"


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _patient_writes(engine, subject: str, body: str) -> int:
    """The patient's message as the Messages page sends it (same service); the thread id."""
    with Session(engine, expire_on_commit=False) as session:
        patient = user_named(session, "patient")
        thread = messages.start_thread(
            patient,
            patient.patient_id,
            recipient="care_team",
            subject=subject,
            body=body,
            session=session,
            now=datetime.now(UTC),
        )
        return thread.id


def _nurse_replies(engine, thread_id: int, body: str) -> None:
    with Session(engine, expire_on_commit=False) as session:
        nurse = user_named(session, "nurse")
        item = triage._item_for(session, messages.KIND, thread_id)
        messages.staff_reply(
            nurse, item.id, item.version, body=body, session=session, now=datetime.now(UTC)
        )


def _stored_messages(engine, body: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Message).where(Message.body == body)).all())


@pytest.fixture(scope="module")
def waiting_message(portal_db) -> tuple[str, str]:
    """A patient message nobody has answered yet: (subject, body)."""
    subject, body = _unique("Dizzy after new pills"), _unique("I feel dizzy in the mornings.")
    _patient_writes(portal_db, subject, body)
    return subject, body


@pytest.fixture(scope="module")
def answered_message(portal_db) -> tuple[str, str]:
    """A patient message the nurse has replied to: (subject, reply)."""
    subject = _unique("Question about my results")
    reply = _unique("Your results look stable; no change needed.")
    thread_id = _patient_writes(portal_db, subject, "Are my cholesterol numbers all right?")
    _nurse_replies(portal_db, thread_id, reply)
    return subject, reply


def test_patient_follows_a_trend_and_messages_the_care_team(
    portal_url, portal_db, browser_page, shot
):
    page = browser_page
    sign_in_patient(page, portal_url)
    shot(page, "home")

    open_page(page, "Test results")
    # One view at a time (labs first), with one "Test" box.
    box = page.get_by_role("combobox", name="Test", exact=True).first
    expect(box).to_be_visible()
    settled(page)
    box.click()
    names = page.get_by_role("option").all_inner_texts()
    assert len(names) > 1, "the demo patient should have several lab tests"
    chosen = names[1]  # not the one shown first, so the chart has to change
    page.get_by_role("option", name=chosen, exact=True).click()
    expect(box).to_have_value(chosen)
    # Vega labels each plotted point with its series: the chart now shows the chosen test.
    chart = page.locator(".vega-embed").first
    expect(chart.locator(f"[aria-label*='Test: {chosen};']").first).to_be_attached()
    expect(chart.locator(f"[aria-label*='Test: {names[0]};']")).to_have_count(0)
    shot(page, "trend")

    open_page(page, "Messages")
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    page.get_by_test_id("stExpander").get_by_text("Write a new message").click()
    subject, body = _unique("Refill timing"), _unique("Can I take my statin in the morning?")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill(body)
    shot(page, "message-written")
    page.get_by_role("button", name="Send message").click()

    # The message is in the thread (read back from the database) and only then "Sent" shows.
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    expect(page.get_by_test_id("stText").get_by_text(body, exact=True)).to_be_visible()
    expect_confirmation(page, "Sent. The clinic will reply here")
    assert _stored_messages(portal_db, body) == 1
    # The form is empty again: a second click on "Send message" cannot send it twice.
    expect(page.get_by_label("Message", exact=True)).to_have_value("")
    shot(page, "message-sent")


def test_nurse_claims_a_patient_message_and_replies(
    portal_url, browser_page, authenticators, waiting_message, shot
):
    subject, body = waiting_message
    reply = _unique("Please hold the new pills and call us today.")
    page = browser_page
    sign_in_staff(page, portal_url, "nurse", authenticators)
    open_page(page, "Triage inbox")
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible()
    shot(page, "inbox")

    choose(page, "Open item", subject)
    expect(page.get_by_role("heading", name=f"Message: Care team: {subject}")).to_be_visible()
    expect(page.get_by_test_id("stText").get_by_text(body, exact=True)).to_be_visible()
    expect(page.get_by_text("Assignee: nobody")).to_be_visible()
    shot(page, "item-opened")

    page.get_by_role("button", name="Claim").click()
    expect_confirmation(page, "You claimed this item.")
    expect(page.get_by_text(f"Assignee: {NURSE_NAME}")).to_be_visible()
    shot(page, "claimed")

    page.get_by_label("Reply to the patient", exact=True).fill(reply)
    page.get_by_role("button", name="Send reply").click()
    expect_confirmation(page, "Reply sent.")
    shot(page, "replied")

    # The answered item left the open queue; among the closed ones it holds the reply. The
    # Status list opens on the first click right after the reply (choose never clicks twice).
    choose(page, "Status", "Closed")
    choose(page, "Open item", subject)
    expect(page.get_by_role("heading", name=f"Message: Care team: {subject}")).to_be_visible()
    expect(page.get_by_text("Status: Closed")).to_be_visible()
    expect(page.get_by_test_id("stText").get_by_text(reply, exact=True)).to_be_visible()
    shot(page, "closed-with-reply")


def test_patient_sees_the_reply_and_an_unread_update(
    portal_url, browser_page, answered_message, shot
):
    subject, reply = answered_message
    page = browser_page
    sign_in_patient(page, portal_url)
    # Home lists the update, marked unread.
    expect(page.get_by_text(f"● New reply from the care team: {subject}")).to_be_visible()
    shot(page, "home-unread-update")

    open_page(page, "Messages")
    conversation = page.get_by_test_id("stRadio").get_by_text(subject)
    expect(conversation).to_be_visible()
    settled(page)
    conversation.click()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    expect(page.get_by_test_id("stText").get_by_text(reply, exact=True)).to_be_visible()
    expect(page.get_by_text(NURSE_NAME).first).to_be_visible()
    shot(page, "reply-in-thread")

    # The patient answers in the same thread; the box is empty again once it is in the thread.
    thanks = _unique("Thank you, that helps.")
    page.get_by_label("Reply", exact=True).fill(thanks)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_test_id("stText").get_by_text(thanks, exact=True)).to_be_visible()
    expect_confirmation(page, "Sent.", exact=True)
    expect(page.get_by_label("Reply", exact=True)).to_have_value("")
    shot(page, "patient-answered")
