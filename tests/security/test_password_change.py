"""Self-service password change: policy, lockout on guessing, and revocation of other sessions."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components import browser_cookie, login
from components import session_keys as keys
from db.models import AuditEvent, AuthSession, Role, User
from portal.errors import InvalidInput
from portal.services import login as login_service
from portal.services import security_events as events
from portal.services import sessions, users
from tests.factories import TEST_PASSWORD, create_patient, create_user
from tests.harness import APP, goto, run_ok

NEW_PASSWORD = "a brand new sentence"  # noqa: S105 - a test password


def _change(user, session, now, current=TEST_PASSWORD, new=NEW_PASSWORD, confirm=NEW_PASSWORD):
    users.change_password(user, current=current, new=new, confirm=confirm, session=session, now=now)


def test_password_change_ends_other_sessions_and_renews_this_one(session, now):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    here = sessions.start(user, session=session, now=now - timedelta(minutes=5), method="password")
    elsewhere = sessions.start(user, session=session, now=now - timedelta(hours=1), method="pw")

    _change(user, session, now)
    fresh = sessions.renew(here, user, session=session, now=now)

    session.refresh(user)
    assert user.sessions_valid_after == now
    assert login_service.check_password("pat", NEW_PASSWORD, session=session, now=now)
    with pytest.raises(login_service.LoginFailed):
        login_service.check_password("pat", TEST_PASSWORD, session=session, now=now)
    for old in (here, elsewhere):
        with pytest.raises(sessions.SessionEnded):
            sessions.current_user(old, session=session, now=now)
    assert sessions.current_user(fresh, session=session, now=now).id == user.id
    audited = session.exec(select(AuditEvent.category, AuditEvent.action)).all()
    assert (events.CREDENTIAL_CHANGE, "change password") in audited
    assert (events.SESSION, "revoke") in audited


def test_wrong_current_password_is_refused_and_counts_towards_lockout(session, now):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    for _ in range(4):
        with pytest.raises(InvalidInput, match="current password is not right"):
            _change(user, session, now, current="not-my-password")
    with pytest.raises(InvalidInput, match="paused"):
        _change(user, session, now, current="not-my-password")
    session.refresh(user)
    assert user.locked_until is not None
    # Even the right password now waits for the lock to pass.
    with pytest.raises(InvalidInput, match="paused"):
        _change(user, session, now)
    with pytest.raises(login_service.LoginFailed):
        login_service.check_password("pat", TEST_PASSWORD, session=session, now=now)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short", "short", "at least 12 characters"),
        (NEW_PASSWORD, "a different sentence", "not the same"),
        (" padded sentence here ", " padded sentence here ", "start or end"),
        (TEST_PASSWORD + "xx", TEST_PASSWORD + "xx", None),
    ],
)
def test_new_password_must_follow_the_policy(session, now, new, confirm, message):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    if message is None:
        _change(user, session, now, new=new, confirm=confirm)
        session.refresh(user)
        assert user.sessions_valid_after == now
        return
    before = user.password_hash
    with pytest.raises(InvalidInput, match=message):
        _change(user, session, now, new=new, confirm=confirm)
    session.refresh(user)
    assert user.password_hash == before
    assert user.sessions_valid_after is None


def test_the_same_password_again_is_refused(session, now):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    with pytest.raises(InvalidInput, match="not the one you have now"):
        _change(user, session, now, new=TEST_PASSWORD, confirm=TEST_PASSWORD)


def _security_page(username: str, token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[keys.AUTH_TOKEN] = token
    at.session_state[keys.COOKIE_CHECKED] = True
    run_ok(at)
    return goto(at, "account_security")


def _fill(at: AppTest, current: str, new: str, confirm: str) -> AppTest:
    for label, value in (
        ("Current password", current),
        ("New password", new),
        ("New password again", confirm),
    ):
        [field] = [t for t in at.text_input if t.label == label]
        field.input(value)
    [button] = [b for b in at.button if b.label == "Change password"]
    return button.click().run()


def test_account_security_page_changes_the_password(app_settings, session, monkeypatch):
    written = []
    monkeypatch.setattr(browser_cookie, "write", lambda name, value, **kw: written.append(value))
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    started = datetime.now(UTC) - timedelta(minutes=1)
    token = sessions.start(user, session=session, now=started, method="password")
    other = sessions.start(user, session=session, now=started, method="password")

    at = _fill(_security_page("pat", token), "wrong-password-x", NEW_PASSWORD, NEW_PASSWORD)
    assert not at.exception
    assert "current password is not right" in at.error[0].value

    at = _fill(_security_page("pat", token), TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert not at.exception
    assert "password is changed" in at.success[0].value
    new_token = at.session_state[keys.AUTH_TOKEN]
    assert new_token != token
    [cookie] = written  # this browser's cookie now carries the new session
    assert sessions.decode_cookie(cookie, key=login.cookie_key()) == new_token
    session.expire_all()
    assert sessions.current_user(new_token, session=session, now=datetime.now(UTC)).id == user.id
    for old in (token, other):
        with pytest.raises(sessions.SessionEnded):
            sessions.current_user(old, session=session, now=datetime.now(UTC))
    assert session.get(User, user.id).failed_login_count == 0
    assert len(session.exec(select(AuthSession)).all()) == 3
