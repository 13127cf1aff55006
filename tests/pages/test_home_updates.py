"""Home shows what changed for the patient: unread updates and messages, latest first."""

from tests.harness import goto
from tests.pages.conftest import click, texts
from tests.requests.helpers import care_team_replies_to_alice, make_clinic


def _unread(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_shows_unread_updates_until_the_patient_reads_them(open_page, session, now):
    clinic = make_clinic(session)
    care_team_replies_to_alice(clinic, session, now)
    at = open_page(clinic.alice_user.username, "pages/home.py")
    assert _unread(at) == {"Unread updates": "1", "Unread messages": "1"}
    assert any(t.startswith("● New reply from the care team: Knee") for t in texts(at))

    goto(at, "pages/notifications.py")
    click(at, "Mark all as read")
    goto(at, "pages/home.py")
    assert _unread(at)["Unread updates"] == "0"
    assert not any(t.startswith("●") for t in texts(at))


def test_home_with_nothing_new_says_so(open_page, session):
    clinic = make_clinic(session)
    at = open_page(clinic.bob_user.username, "pages/home.py")
    assert _unread(at) == {"Unread updates": "0", "Unread messages": "0"}
    assert "Nothing new." in texts(at)


def test_home_updates_follow_the_record_a_proxy_is_viewing(open_page, session, now):
    clinic = make_clinic(session)
    care_team_replies_to_alice(clinic, session, now)
    # The proxy sees Alice's updates (their only granted record), never Bob's or their own.
    at = open_page(clinic.proxy.username, "pages/home.py")
    assert _unread(at)["Unread updates"] == "1"
    bob = open_page(clinic.bob_user.username, "pages/home.py")
    assert _unread(bob)["Unread updates"] == "0"
