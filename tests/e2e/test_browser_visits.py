"""End-to-end (issue 12): the patient's Appointments page lists every visit under Upcoming and
asks before cancelling; the nurse reads a visit request's details in the triage item and books it
from the slot picker filtered by the patient's preferences. Screenshots at 1280 px."""

import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from db.models import Booking, Practitioner, ReminderSent, VisitRequest
from portal.config import get_settings
from portal.services import no_show
from portal.services.scheduling import visit_requests
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


def test_patient_sees_upcoming_visits_and_cancel_asks_first(portal_url, browser_page, shot):
    page = browser_page
    sign_in_patient(page, portal_url)
    open_page(page, "Appointments")
    upcoming = page.get_by_role("tabpanel", name="Upcoming")
    expect(upcoming.get_by_text("Annual physical with Dr. Anika Patel, MD")).to_be_visible()
    settled(page)
    shot(page, "appointments-upcoming")

    # The card of that visit (other tests on this server may have booked more): the innermost
    # block holding both its title and a Cancel button.
    card = (
        upcoming.get_by_test_id("stVerticalBlock")
        .filter(has=page.get_by_text("Annual physical with Dr. Anika Patel, MD", exact=True))
        .filter(has=page.get_by_role("button", name="Cancel visit"))
        .last
    )
    card.get_by_role("button", name="Cancel visit").click()
    expect(page.get_by_role("button", name="Yes, cancel visit")).to_be_visible()
    expect(page.get_by_text("Cancel Annual physical with Dr. Anika Patel, MD on")).to_be_visible()
    shot(page, "cancel-asks-first")
    page.get_by_role("button", name="Keep visit").click()
    settled(page)
    expect(page.get_by_role("button", name="Yes, cancel visit")).to_have_count(0)

    page.get_by_role("tab", name="Waitlist and requests").click()
    expect(page.get_by_text("Days that suit you (leave empty for any day)")).to_be_visible()
    shot(page, "request-a-visit-form")


def test_nurse_books_a_visit_request_from_its_triage_item(
    portal_url, portal_db, browser_page, authenticators, shot
):
    reason = f"Knee pain after a fall {uuid.uuid4().hex[:6]}"
    with Session(portal_db, expire_on_commit=False) as session:
        patient = user_named(session, "patient")
        visit_requests.request_visit(
            patient,
            session=session,
            now=datetime.now(UTC),
            patient_id=patient.patient_id,
            visit_type="follow_up",
            preferred_days=[1, 3],
            preferred_parts=["afternoon"],
            preferred_times="After 2 if possible",
            reason=reason,
        )
    page = browser_page
    sign_in_staff(page, portal_url, "nurse", authenticators)
    open_page(page, "Triage inbox")
    choose(page, "Open item", reason)
    expect(
        page.get_by_text("Days and times that suit: Tuesday, Thursday · Afternoons")
    ).to_be_visible()
    expect(page.get_by_text(f"Reason: {reason}")).to_be_visible()
    book = page.get_by_role("button", name="Book and tell the patient")
    expect(book).to_be_disabled()
    page.get_by_text("Preferred provider:").scroll_into_view_if_needed()
    shot(page, "visit-request-item")

    choose(page, "Open times that suit the patient", "Tue")
    expect(book).to_be_enabled()
    book.click()
    expect_confirmation(
        page, "Visit booked; the request is closed and the patient has been notified."
    )
    # The closed item leaves the open queue; the success message says what happened.
    shot(page, "booked-from-request")
    with Session(portal_db) as session:
        request = session.exec(select(VisitRequest).where(VisitRequest.reason == reason)).one()
        assert request.status == "scheduled"
        assert session.get(Booking, request.booking_id).visit_type == "follow_up"


def test_front_desk_sees_no_show_rates_and_risk_flags_on_the_day(
    portal_url, portal_db, browser_page, authenticators, shot
):
    """The demo's year of visits: no-show rates on the dashboard, and after the scheduler's
    tick (run here by hand: tests run without the background scheduler) a flag on the day."""
    with Session(portal_db) as session:
        no_show.send_extra_reminders(session=session, now=datetime.now(UTC))
        flagged = session.exec(
            select(Booking)
            .join(ReminderSent, ReminderSent.booking_id == Booking.id)
            .where(ReminderSent.offset_hours == no_show.EXTRA_REMINDER_OFFSET)
            .order_by(Booking.start)
        ).first()
        assert flagged is not None
        provider = session.get(Practitioner, flagged.practitioner_id).name
    day = flagged.start.astimezone(get_settings().tz).date()

    page = browser_page
    sign_in_staff(page, portal_url, "frontdesk", authenticators)
    open_page(page, "Dashboard")
    expect(page.get_by_text(" no-shows in ")).to_be_visible()
    page.get_by_text("No-show risk, next two weeks").scroll_into_view_if_needed()
    settled(page)
    shot(page, "dashboard-no-shows")

    open_page(page, "Schedule")
    choose(page, "Provider", provider)
    # The date field is a row of segments (year / month / day): type into the first.
    page.get_by_role("group", name="Day").get_by_role("spinbutton").first.click()
    page.keyboard.type(day.strftime("%Y%m%d"))
    page.keyboard.press("Escape")  # close the calendar; leaving the field sends the date
    page.get_by_role("heading", name="Schedule").click()
    settled(page)
    flag = page.get_by_text("High no-show risk: an extra reminder was sent. Consider a call.")
    expect(flag.first).to_be_visible()
    flag.first.scroll_into_view_if_needed()
    shot(page, "day-with-risk-flag")
