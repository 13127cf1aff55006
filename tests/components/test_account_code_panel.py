"""components/account_code_panel.py: the button names the code the patient will get, asked of
the checked service (account_codes.next_code_purpose)."""

from streamlit.testing.v1 import AppTest

from db.models import Role
from tests.factories import create_patient, create_user


def _panel(user_id: int, patient_id: int) -> None:
    from components.account_code_panel import account_code_panel  # AppTest runs this source alone
    from db.models import User
    from portal.services.unit_of_work import session_scope

    with session_scope() as session:
        user = session.get(User, user_id)
    account_code_panel(user, patient_id)


def _button_labels(user_id: int, patient_id: int) -> list[str]:
    at = AppTest.from_function(_panel, args=(user_id, patient_id), default_timeout=30).run()
    assert not at.exception, at.exception
    return [button.label for button in at.button]


def test_the_button_offers_activation_or_a_reset_by_whether_the_patient_has_an_account(
    app_env, session
):
    staff = create_user(session, Role.FRONT_DESK)
    new = create_patient(session)
    known = create_patient(session)
    create_user(session, Role.PATIENT, known)

    assert _button_labels(staff.id, new.id) == ["Issue a portal activation code"]
    assert _button_labels(staff.id, known.id) == ["Issue a password-reset code"]
