"""pages/notifications.py: each update links to the page that holds what it is about."""

from datetime import timedelta

from portal.services import notifications
from tests.harness import open_app
from tests.requests.helpers import make_clinic


def test_each_update_links_to_its_page_when_the_menu_has_it(app_env, session, now):
    clinic = make_clinic(session)
    alice = clinic.alice.id
    for minutes, kind, link in [
        (1, "reply", "messages"),
        (2, "visit_reminder", "pages/appointments.py"),  # as older scheduling notices stored it
        (3, "note", None),
        (4, "note", "user_admin"),  # a staff page: not in a patient's menu
    ]:
        notifications.notify(
            session=session,
            patient_id=alice,
            kind=kind,
            text=f"update {minutes}",
            now=now + timedelta(minutes=minutes),
            link_page=link,
        )
    session.commit()
    at = open_app(clinic.alice_user.username, "notifications")
    assert sorted(link.value for link in at.get("page_link")) == [
        "Open Appointments",
        "Open Messages",
    ]
