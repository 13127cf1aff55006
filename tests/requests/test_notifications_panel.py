from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.models import TriageItem
from portal.services import messages
from tests.requests.helpers import make_clinic


def _panel(username: str, patient_id: int) -> None:
    from components.notifications_panel import notifications_panel
    from db.engine import session_scope
    from portal.services.users import get_active_user

    with session_scope() as session:
        user = get_active_user(username, session=session)
    notifications_panel(user, patient_id, link=False)


def test_home_panel_shows_unread_updates_and_messages(engine, session, now):
    clinic = make_clinic(session)
    messages.start_thread(
        clinic.alice_user,
        clinic.alice.id,
        recipient="care_team",
        subject="Knee",
        body="Hurts",
        session=session,
        now=now,
    )
    item = session.exec(select(TriageItem)).one()
    messages.staff_reply(clinic.nurse, item.id, item.version, body="Rest", session=session, now=now)
    at = AppTest.from_function(
        _panel, kwargs={"username": clinic.proxy.username, "patient_id": clinic.alice.id}
    ).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric} == {"Unread updates": "1", "Unread messages": "1"}
    assert at.text[0].value.startswith("● New reply from the care team: Knee")
