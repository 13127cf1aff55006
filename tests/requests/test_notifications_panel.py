from streamlit.testing.v1 import AppTest

from tests.requests.helpers import care_team_replies_to_alice, make_clinic


def _panel(username: str, patient_id: int) -> None:
    from components.notifications_panel import notifications_panel
    from db.engine import session_scope
    from portal.services.users import get_active_user

    with session_scope() as session:
        user = get_active_user(username, session=session)
    notifications_panel(user, patient_id, link=False)


def test_home_panel_shows_unread_updates_and_messages(engine, session, now):
    clinic = make_clinic(session)
    care_team_replies_to_alice(clinic, session, now)
    at = AppTest.from_function(
        _panel, kwargs={"username": clinic.proxy.username, "patient_id": clinic.alice.id}
    ).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric} == {"Unread updates": "1", "Unread messages": "1"}
    assert at.text[0].value.startswith("● New reply from the care team: Knee")
