"""components/notifications_panel.py: the unread counts, the newest updates (unread ones marked)
up to the limit, and a link from an update to its page only where the account's menu has it."""

from datetime import timedelta

import pytest

from components import notifications_panel
from portal.services import notifications
from tests.conftest import NOW
from tests.harness import freeze_clock, open_component, texts
from tests.requests.helpers import care_team_replies_to_alice, make_clinic


def _panel(user_id: int, patient_id: int, limit: int) -> None:
    from components.notifications_panel import notifications_panel
    from db.models import User
    from portal.services.unit_of_work import session_scope

    with session_scope() as session:
        user = session.get(User, user_id)
    notifications_panel(user, patient_id, limit=limit, link=False)


def _links(user_id: int, note_ids: list[int]) -> None:
    from components.notifications_panel import open_link
    from db.models import Notification, User
    from portal.services.unit_of_work import session_scope

    with session_scope() as session:
        user = session.get(User, user_id)
        notes = [session.get(Notification, i) for i in note_ids]
    for note in notes:
        open_link(user, note)


@pytest.fixture
def clinic(app_env, session, monkeypatch):
    freeze_clock(monkeypatch, NOW, notifications_panel)
    return make_clinic(session)


def _notify(session, patient_id: int, text: str, minutes: int, link: str | None = None) -> int:
    note = notifications.notify(
        session=session,
        patient_id=patient_id,
        kind="note",
        text=text,
        now=NOW - timedelta(hours=1) + timedelta(minutes=minutes),
        link_page=link,
    )
    session.commit()
    return note.id


def _counts(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_newest_updates_up_to_the_limit_with_the_unread_ones_marked(clinic, session):
    alice, user = clinic.alice.id, clinic.alice_user
    for minute in (1, 2):
        _notify(session, alice, f"old {minute}", minute)
    notifications.mark_all_read(user, alice, session=session, now=NOW)
    for minute in (3, 4, 5):
        _notify(session, alice, f"new {minute}", minute)
    _notify(session, clinic.bob.id, "for Bob", 6)  # another patient's: never counted or shown

    at = open_component(_panel, user.id, alice, 4)
    assert _counts(at) == {"Unread updates": "3", "Unread messages": "0"}
    shown = [t.split(" (")[0] for t in texts(at)]
    assert shown == ["● new 5", "● new 4", "● new 3", "old 2"]
    assert not at.get("page_link")


def test_an_unread_reply_from_the_care_team_is_counted(clinic, session):
    care_team_replies_to_alice(clinic, session, NOW)

    at = open_component(_panel, clinic.alice_user.id, clinic.alice.id, 5)
    assert _counts(at) == {"Unread updates": "1", "Unread messages": "1"}


def test_nothing_new_is_said(clinic):
    at = open_component(_panel, clinic.bob_user.id, clinic.bob.id, 5)
    assert _counts(at) == {"Unread updates": "0", "Unread messages": "0"}
    assert texts(at) == ["Nothing new."]


def test_an_update_links_only_to_a_page_in_the_accounts_menu(clinic, session):
    alice = clinic.alice.id
    notes = [
        _notify(session, alice, "reply", 1, link="messages"),
        _notify(session, alice, "no page", 2),
        _notify(session, alice, "staff page", 3, link="user_admin"),
        _notify(session, alice, "unknown page", 4, link="nowhere"),
    ]
    patient = open_component(_links, clinic.alice_user.id, notes)
    assert [link.label for link in patient.get("page_link")] == ["Open Messages"]
