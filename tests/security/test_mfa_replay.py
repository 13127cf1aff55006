"""A TOTP code works once: a code seen on a shoulder or in a proxy log cannot sign in again."""

from datetime import timedelta

import pyotp

from db.models import Role
from portal.services import mfa
from tests.factories import create_user


def _enrolled(session, now):
    user = create_user(session, Role.NURSE, username="nurse")
    secret = mfa.new_secret()
    mfa.enable(user, secret, pyotp.TOTP(secret).at(now), session=session, now=now)
    return user, pyotp.TOTP(secret)


def test_the_enrolment_code_cannot_be_used_to_sign_in(session, now):
    user, totp = _enrolled(session, now)
    assert not mfa.check_code(user, totp.at(now), session=session, now=now)
    assert user.failed_login_count == 1  # a replay counts toward the lockout like a wrong code


def test_a_code_is_accepted_once_then_refused(session, now):
    user, totp = _enrolled(session, now)
    later = now + timedelta(seconds=30)
    assert mfa.check_code(user, totp.at(later), session=session, now=later)
    again = later + timedelta(seconds=5)
    assert not mfa.check_code(user, totp.at(later), session=session, now=again)


def test_an_older_code_is_refused_after_a_newer_one(session, now):
    user, totp = _enrolled(session, now)
    t1, t2 = now + timedelta(seconds=30), now + timedelta(seconds=60)
    assert mfa.check_code(user, totp.at(t2), session=session, now=t2)
    # t1's code is still inside the one-step clock tolerance at t2, but it is older.
    assert not mfa.check_code(user, totp.at(t1), session=session, now=t2)


def test_the_next_step_code_is_accepted_for_a_fast_phone_clock(session, now):
    user, totp = _enrolled(session, now)
    later = now + timedelta(seconds=60)
    assert mfa.check_code(user, totp.at(later + timedelta(seconds=30)), session=session, now=later)
