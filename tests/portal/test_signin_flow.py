"""The sign-in state machine (portal/signin_flow.py), step by step, without a browser."""

from datetime import timedelta

import pyotp

from db.models import Role
from portal import signin_flow
from portal.services import sessions
from portal.services.login import LoginFailed
from tests.factories import create_user

PASSWORD_STEP = {"device_waits": False, "client": "10.0.0.1"}


def _password_ok(user, session, now) -> signin_flow.Step:
    return signin_flow.after_password(
        user.username, user.username, **PASSWORD_STEP, session=session, now=now
    )


def test_a_patient_is_signed_in_by_the_password_alone(session, now):
    user = create_user(session, Role.PATIENT, username="pat")
    step = _password_ok(user, session, now)
    assert step.pending is None and step.error is None
    assert sessions.current_user(step.token, session=session, now=now).id == user.id


def test_a_wrong_password_is_refused_in_plain_words_and_counted(session, now):
    user = create_user(session, Role.PATIENT, username="pat")
    step = signin_flow.after_password(None, "pat", **PASSWORD_STEP, session=session, now=now)
    assert step.token is None and step.pending is None
    assert step.error == LoginFailed.user_message
    session.refresh(user)
    assert user.failed_login_count == 1


def test_staff_without_mfa_enrol_then_save_codes_then_are_signed_in(session, now):
    nurse = create_user(session, Role.NURSE, username="nurse")
    step = _password_ok(nurse, session, now)
    assert step.token is None and step.pending["step"] == "enrol"
    secret = step.pending["secret"]

    wrong = signin_flow.submit_enrolment(step.pending, "000000", session=session, now=now)
    assert wrong.error and wrong.pending == step.pending  # still on the same step

    code = pyotp.TOTP(secret).at(now)
    enrolled = signin_flow.submit_enrolment(step.pending, code, session=session, now=now)
    assert enrolled.pending["step"] == "codes" and len(enrolled.pending["codes"]) >= 5
    assert step.pending["step"] == "enrol"  # the earlier state is not changed in place

    done = signin_flow.codes_saved(enrolled.pending, session=session, now=now)
    assert sessions.current_user(done.token, session=session, now=now).id == nurse.id


def test_an_enrolled_account_needs_a_right_code(session, now):
    nurse = create_user(session, Role.NURSE, username="nurse")
    enrolment = _password_ok(nurse, session, now).pending
    totp = pyotp.TOTP(enrolment["secret"])
    codes = signin_flow.submit_enrolment(enrolment, totp.at(now), session=session, now=now)
    signin_flow.codes_saved(codes.pending, session=session, now=now)

    later = now + timedelta(minutes=1)
    step = _password_ok(nurse, session, later)
    assert step.token is None and step.pending["step"] == "mfa"
    wrong = signin_flow.submit_code(step.pending, "123456", session=session, now=later)
    assert wrong.error == "That code is not right. Please try again."
    assert wrong.pending == step.pending and wrong.token is None
    right = signin_flow.submit_code(step.pending, totp.at(later), session=session, now=later)
    assert right.token is not None and right.error is None


def test_a_half_finished_sign_in_of_a_deactivated_account_starts_again(session, now):
    nurse = create_user(session, Role.NURSE, username="nurse")
    pending = _password_ok(nurse, session, now).pending
    nurse.active = False
    session.add(nurse)
    session.commit()
    step = signin_flow.submit_code(pending, "123456", session=session, now=now)
    assert step.pending is None and step.token is None and step.error


def test_a_half_finished_sign_in_expires(now):
    pending = signin_flow.Pending(user_id=1, step="mfa", since=now)
    assert signin_flow.still_pending(pending, now + timedelta(minutes=4)) == pending
    assert signin_flow.still_pending(pending, now + timedelta(minutes=6)) is None
    assert signin_flow.still_pending(None, now) is None


def test_a_wrong_activation_code_is_refused_in_plain_words(session, now):
    step = signin_flow.redeem_code(
        "NOPE-NOPE-NOPE",
        username="newbie",
        password="a long enough sentence",
        confirm="a long enough sentence",
        session=session,
        now=now,
    )
    assert step.error and step.notice is None and step.token is None
