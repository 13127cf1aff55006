"""The sign-in screen end to end in AppTest: lockout, MFA, sessions, activation."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pyotp
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components import browser_cookie, login, password_form
from components import session_keys as keys
from db.models import AuditEvent, AuthSession, Role, User
from portal.services import account_codes, mfa, sessions
from portal.services import login as login_service
from tests.factories import TEST_PASSWORD, create_patient, create_user

GATE = str(Path(__file__).with_name("gate_app.py"))


def _app() -> AppTest:
    return AppTest.from_file(GATE, default_timeout=30).run()


def _field(at: AppTest, label: str):
    """streamlit-authenticator's inputs have no keys; the labels are ours (SIGN_IN_FIELDS)."""
    [field] = [t for t in at.text_input if t.label == label]
    return field


def _sign_in(at: AppTest, username: str, password: str = TEST_PASSWORD) -> AppTest:
    _field(at, "Username").input(username)
    _field(at, "Password").input(password)
    return _submit(at, "Sign in")


def _submit(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def _text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(e.value for e in at.error)


def test_patient_signs_in_and_out(app_settings, session):
    patient = create_patient(session)
    create_user(session, Role.PATIENT, patient, username="pat")
    at = _sign_in(_app(), "pat")
    assert "Signed in as pat" in _text(at)
    token = at.session_state[keys.AUTH_TOKEN]
    assert session.exec(select(AuthSession)).one().ended_at is None
    at = _submit(at, "Sign out")
    assert "Signed in as" not in _text(at)
    # The notice survives the reruns the cookie components cause on their own.
    assert at.run().info[0].value == sessions.END_MESSAGES["signed_out"]
    session.expire_all()
    row = session.exec(select(AuthSession)).one()
    assert row.ended_at is not None and token


def test_unknown_user_and_wrong_password_get_the_same_message(app_settings, session):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    wrong = _sign_in(_app(), "pat", "nope-nope-nope").error[0].value
    unknown = _sign_in(_app(), "nobody", "nope-nope-nope").error[0].value
    assert wrong == unknown


def test_after_five_failures_even_the_right_password_waits_then_works(app_settings, session):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    at = _app()
    for _ in range(5):
        at = _sign_in(at, "pat", "wrong-password-x")
    at = _sign_in(at, "pat")
    assert "Signed in as" not in _text(at)
    session.expire_all()
    user = session.exec(select(User).where(User.username == "pat")).one()
    waits_until = user.locked_until
    assert waits_until is not None
    assert waits_until - datetime.now(UTC) <= timedelta(seconds=60)  # a wait, not a lockout
    # Once the wait is over (moved into the past here), the owner signs in.
    user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    session.add(user)
    session.commit()
    assert "Signed in as pat" in _text(_sign_in(at, "pat"))
    assert "account lockout" not in session.exec(select(AuditEvent.category)).all()


def test_staff_must_enrol_mfa_then_sign_in_with_a_code(app_settings, session):
    create_user(session, Role.NURSE, username="nurse")
    at = _sign_in(_app(), "nurse")
    assert "Signed in as" not in _text(at)
    secret = at.session_state[keys.LOGIN_PENDING]["secret"]
    at.text_input(key="login_enrol_code").input(pyotp.TOTP(secret).now())
    at = _submit(at, "Turn on two-step sign-in")
    assert len(at.code[0].value.splitlines()) == mfa.RECOVERY_CODES
    at = _submit(at, "I have saved my codes")
    assert "Signed in as nurse" in _text(at)

    # Next time: password, then a code.
    at = _sign_in(_app(), "nurse")
    assert "Signed in as" not in _text(at)
    at.text_input(key="login_mfa_code").input("000000")
    at = _submit(at, "Verify")
    assert "not right" in at.error[0].value
    # The enrolment code was used up; the app's next code (one step ahead) is accepted.
    next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    at.text_input(key="login_mfa_code").input(next_code)
    at = _submit(at, "Verify")
    assert "Signed in as nurse" in _text(at)


def test_idle_session_is_signed_out_on_the_server(app_settings, session):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    at = _sign_in(_app(), "pat")
    row = session.exec(select(AuthSession)).one()
    row.last_seen_at = datetime.now(UTC) - timedelta(minutes=16)
    session.add(row)
    session.commit()
    at = at.run()
    assert "Signed in as" not in _text(at)
    assert "without activity" in at.info[0].value


def test_cookie_from_before_logout_is_refused(app_settings, session, monkeypatch):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    at = _sign_in(_app(), "pat")
    token = at.session_state[keys.AUTH_TOKEN]
    cookie = sessions.encode_cookie(token, key=login.cookie_key(), now=datetime.now(UTC))
    # A fresh browser session presenting the cookie is let in while the session lives ...
    monkeypatch.setattr(login, "sent_cookie", lambda: cookie)
    assert "Signed in as pat" in _text(_app())
    _submit(at, "Sign out")
    # ... and refused once that session signed out: a replayed copy is worthless.
    assert "Signed in as" not in _text(_app())


def test_activation_code_creates_the_account(app_settings, session, now):
    staff = create_user(session, Role.FRONT_DESK)
    patient = create_patient(session)
    purpose, code = account_codes.issue_code(
        staff, patient.id, session=session, now=datetime.now(UTC)
    )
    assert purpose == "activation"
    at = _app()
    at.text_input(key="activate_code").input(code)
    at.text_input(key="activate_username").input("newpat")
    at.text_input(key="activate_password").input("short")
    at.text_input(key="activate_confirm").input("short")
    at = _submit(at, "Activate or reset")
    assert "at least 12 characters" in at.error[0].value
    at.text_input(key="activate_password").input("a long enough sentence")
    at.text_input(key="activate_confirm").input("a long enough sentence")
    at = _submit(at, "Activate or reset")
    assert "Your account is ready" in at.info[0].value
    at = _sign_in(at, "newpat", "a long enough sentence")
    assert "Signed in as newpat" in _text(at)


def test_sign_in_form_is_streamlit_authenticators_and_reads_only_the_typed_account(
    app_settings, session, monkeypatch
):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    create_user(session, Role.PATIENT, create_patient(session), username="other")
    looked_up = []
    real_entry = login_service.credentials_entry

    def spy(username, **kwargs):
        looked_up.append(username)
        return real_entry(username, **kwargs)

    monkeypatch.setattr(login_service, "credentials_entry", spy)
    at = _app()
    # The form is the package's (its form key), with our labels; drawing it reads no account.
    assert password_form.SIGN_IN_FORM_KEY in [f.proto.form.form_id for f in at.get("form")]
    assert looked_up == []
    at = _sign_in(at, " Pat ")  # the package trims and lowercases the name
    assert "Signed in as pat" in _text(at)
    assert looked_up == ["pat"]


def test_failures_are_counted_in_the_database(app_settings, session):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    at = _app()
    for _ in range(2):
        at = _sign_in(at, "pat", "wrong-password-x")
        assert at.error[0].value == login_service.LoginFailed.user_message
    session.expire_all()
    user = session.exec(select(User).where(User.username == "pat")).one()
    assert user.failed_login_count == 2
    # A right password resets the count.
    _sign_in(at, "pat")
    session.expire_all()
    assert session.get(User, user.id).failed_login_count == 0


def test_locked_or_disabled_account_is_refused_before_the_password(app_settings, session):
    locked = create_user(
        session,
        Role.PATIENT,
        create_patient(session),
        username="locked",
        locked_until=datetime.now(UTC) + timedelta(minutes=10),
    )
    create_user(session, Role.PATIENT, create_patient(session), username="gone", active=False)
    for name in ("locked", "gone"):
        at = _sign_in(_app(), name)  # the right password
        assert "Signed in as" not in _text(at)
        assert at.error[0].value == login_service.LoginFailed.user_message
    assert session.exec(select(AuthSession)).all() == []
    details = session.exec(select(AuditEvent.detail).where(AuditEvent.user_id == locked.id)).all()
    assert "account locked" in details


def test_no_streamlit_authenticator_cookie_only_our_session_cookie(
    app_settings, session, monkeypatch
):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    written = []
    real_write = browser_cookie.write

    def spy(name, value, **kwargs):
        written.append((name, value))
        return real_write(name, value, **kwargs)

    monkeypatch.setattr(browser_cookie, "write", spy)
    at = _sign_in(_app(), "pat")
    assert "Signed in as pat" in _text(at)
    [(name, value)] = written
    assert name == app_settings.cookie_name
    # A signed random session id, not the package's {username, exp_date} JWT.
    claims = jwt.decode(value, login.cookie_key(), algorithms=["HS256"])
    assert set(claims) == {"sid", "iat", "exp"}
    assert claims["sid"] == at.session_state[keys.AUTH_TOKEN]


def test_the_packages_signed_in_flag_alone_does_not_sign_in(app_settings, session):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    at = AppTest.from_file(GATE, default_timeout=30)
    at.session_state[keys.AUTH_STATUS] = True
    at.session_state[keys.AUTH_USERNAME] = "pat"
    at.run()
    assert "Signed in as" not in _text(at)
    assert [b.label for b in at.button if b.label == "Sign in"]


def test_mfa_user_gets_no_session_until_the_code(app_settings, session):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    secret = mfa.new_secret()
    user.mfa_secret = secret
    user.mfa_enabled_at = datetime.now(UTC)
    session.add(user)
    session.commit()
    at = _sign_in(_app(), "pat")
    assert "Signed in as" not in _text(at)
    assert [t for t in at.text_input if t.key == "login_mfa_code"]
    # The package's own "signed in" flag from the password step is not left behind.
    assert not at.session_state[keys.AUTH_STATUS]
    assert session.exec(select(AuthSession)).all() == []
    at.text_input(key="login_mfa_code").input(pyotp.TOTP(secret).now())
    at = _submit(at, "Verify")
    assert "Signed in as pat" in _text(at)
