"""components/login.py applies the sign-in steps of portal/signin_flow.py to the screen: what
waits, what is said, and when the password form comes back."""

from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from components import session_keys as keys
from db.models import Role
from portal.services.login import LoginFailed
from tests.factories import create_user

pytestmark = pytest.mark.usefixtures("app_env")


def _gate() -> None:
    import streamlit as st

    from components.login import require_login

    user = require_login()
    st.text(f"inside as {user.username}")


def _app(**state) -> AppTest:
    at = AppTest.from_function(_gate, default_timeout=30)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _pending(user, step: str, since: datetime) -> dict:
    return {"user_id": user.id, "step": step, "since": since}


def _labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def test_a_stranger_gets_the_sign_in_form_and_nothing_else():
    at = _app()
    assert {t.label for t in at.text_input} >= {"Username", "Password"}
    assert not [t for t in at.text if t.value.startswith("inside")]


def test_a_waiting_second_step_shows_the_code_form(session):
    nurse = create_user(session, Role.NURSE, username="nurse")
    at = _app(**{keys.LOGIN_PENDING: _pending(nurse, "mfa", datetime.now(UTC))})
    assert {"Verify", "Cancel"} <= _labels(at)
    at.text_input(key="login_mfa_code").input("000000")
    [verify] = [b for b in at.button if b.label == "Verify"]
    at = verify.click().run()
    assert [e.value for e in at.error] == ["That code is not right. Please try again."]
    assert at.session_state[keys.LOGIN_PENDING]["step"] == "mfa"  # still waiting


def test_an_expired_second_step_goes_back_to_the_password(session):
    nurse = create_user(session, Role.NURSE, username="nurse")
    long_ago = datetime.now(UTC) - timedelta(minutes=6)
    at = _app(**{keys.LOGIN_PENDING: _pending(nurse, "mfa", long_ago)})
    assert "Verify" not in _labels(at)
    assert {t.label for t in at.text_input} >= {"Username", "Password"}
    assert keys.LOGIN_PENDING not in at.session_state


def test_a_second_step_for_a_deactivated_account_starts_again(session):
    nurse = create_user(session, Role.NURSE, username="nurse")
    at = _app(**{keys.LOGIN_PENDING: _pending(nurse, "mfa", datetime.now(UTC))})
    nurse.active = False
    session.add(nurse)
    session.commit()
    [verify] = [b for b in at.button if b.label == "Verify"]
    at = verify.click().run()
    assert [e.value for e in at.error] == [LoginFailed.user_message]
    assert keys.LOGIN_PENDING not in at.session_state
    assert "Verify" not in _labels(at)


def test_a_wrong_activation_code_is_said_plainly():
    at = _app(**{keys.LOGIN_NOTICE: "You have signed out."})
    at.text_input(key="activate_code").input("NOPE-NOPE-NOPE")
    [go] = [b for b in at.button if b.label == "Activate or reset"]
    at = go.click().run()
    assert len(at.error) == 1 and not at.info  # the old notice made way for the refusal
