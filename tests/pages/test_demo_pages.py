"""The demo clinic, opened the way a newcomer would: every demo login reaches every page of its
role on real (synthetic) data without an error, and the demo patient's Home has news."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from db.models import User
from portal.demo.seed import DEMO_USERNAMES, seed_demo_clinic
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
