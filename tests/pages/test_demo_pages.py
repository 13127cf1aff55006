"""The demo clinic, opened the way a newcomer would: every demo login reaches every page of its
role on real (synthetic) data without an error, and the demo patient's Home has news."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from db.models import Booking, ReminderSent, User
from portal.config import get_settings
from portal.demo.seed import DEMO_USERNAMES, seed_demo_clinic
from portal.services import no_show
from tests.harness import goto
from tests.pages.conftest import texts
from tests.pages.test_every_page import _paths


@pytest.fixture
def demo(session):
    # Seeded at the wall clock's now, as scripts/start does, since the pages read the wall clock.
    return seed_demo_clinic(
        session=session, n_patients=6, seed=7, now=datetime.now(UTC), password="Demo-pass-1234"
    )


def test_every_demo_login_opens_every_page_of_its_role(open_page, session, demo):

    for username in DEMO_USERNAMES:
        user = session.exec(select(User).where(User.username == username)).one()
        at = open_page(username)
        for path in _paths(user.role):
            goto(at, path)
            assert not at.exception, (username, path, at.exception)
            assert not at.error, (username, path, [e.value for e in at.error])


def test_demo_patient_home_shows_unread_updates_and_upcoming_visits(open_page, demo):
    at = open_page("patient", "pages/home.py")
    assert {m.label: m.value for m in at.metric} == {"Unread updates": "2", "Unread messages": "1"}
    assert any(t.startswith("● New reply from the care team") for t in texts(at))
    appointments = open_page("patient", "pages/appointments.py")
    assert sum(e.label == "Pre-visit check-in" for e in appointments.expander) == 2
    assert any(t.startswith("Annual physical with Dr. Anika Patel") for t in texts(appointments))


def test_demo_dashboard_shows_no_show_rates_and_the_calendar_flags_risky_visits(
    open_page, session, demo
):
    """Issue 12, item 7: a past year of visits, so 4, 26 and 52 weeks all have no-show rates,
    the model trains, and after the scheduler's first tick the staff calendar flags visits."""
    at = open_page("nurse", "pages/dashboard.py")
    for weeks in (4, 26, 52):
        slider = next(s for s in at.select_slider if s.label == "Period")
        slider.set_value(weeks)
        at.run()
        assert "No past visits in this period." not in [i.value for i in at.info], weeks
        assert any(" no-shows in " in c for c in texts(at)), weeks
    assert not any(i.value.startswith("Not enough visit history") for i in at.info)

    now = datetime.now(UTC)
    assert no_show.send_extra_reminders(session=session, now=now) >= 1
    flagged = session.exec(
        select(Booking)
        .join(ReminderSent, ReminderSent.booking_id == Booking.id)
        .where(ReminderSent.offset_hours == no_show.EXTRA_REMINDER_OFFSET)
    ).first()
    staff = open_page("frontdesk", "pages/schedule.py")
    staff.selectbox(key="schedule_provider").set_value(flagged.practitioner_id)
    staff.date_input(key="schedule_day").set_value(
        flagged.start.astimezone(get_settings().tz).date()
    )
    staff.run()
    assert "High no-show risk: an extra reminder was sent. Consider a call." in [
        w.value for w in staff.warning
    ]
