"""Step-up: security changes in a signed-in session ask again for the current password or a current
code, so a session left open (or stolen) cannot turn two-step sign-in off or take new recovery
codes, or move the patient's phone or email, with one click."""

from datetime import timedelta

import pyotp
import pytest
from sqlmodel import select

from db.models import AuditEvent, ProfileChangeRequest, Role, User
from portal.errors import InvalidInput
from portal.services import mfa, profile_changes
from tests.factories import TEST_PASSWORD, create_patient, create_user
from tests.harness import click, open_app


def _patient_with_mfa(session, now, username="pat"):
    user = create_user(session, Role.PATIENT, create_patient(session), username=username)
    secret = mfa.new_secret()
    mfa.enable(user, secret, pyotp.TOTP(secret).at(now), session=session, now=now)
    return user, pyotp.TOTP(secret)


@pytest.mark.parametrize("proof", [None, "", "not my password"])
def test_mfa_stays_on_without_the_current_password(session, now, proof):
    user, _ = _patient_with_mfa(session, now)
    with pytest.raises(InvalidInput, match="password or code is not right"):
        mfa.disable(user, proof=proof, session=session, now=now)
    session.refresh(user)
    assert user.mfa_enabled_at is not None
    assert user.failed_login_count == 1  # a guess counts like a wrong password


def test_mfa_goes_off_with_the_password_or_a_current_code(session, now):
    user, _ = _patient_with_mfa(session, now)
    mfa.disable(user, proof=TEST_PASSWORD, session=session, now=now)
    assert user.mfa_enabled_at is None
    other, totp = _patient_with_mfa(session, now, username="pat2")
    later = now + timedelta(seconds=30)
    mfa.disable(other, proof=totp.at(later), session=session, now=later)
    assert other.mfa_enabled_at is None
    details = session.exec(select(AuditEvent.detail).where(AuditEvent.action == "confirm")).all()
    assert "two-step sign-in off" in details


def test_new_recovery_codes_need_the_password(session, now):
    user, _ = _patient_with_mfa(session, now)
    with pytest.raises(InvalidInput):
        mfa.regenerate_recovery_codes(user, proof="guess", session=session, now=now)
    codes = mfa.regenerate_recovery_codes(user, proof=TEST_PASSWORD, session=session, now=now)
    assert len(codes) == mfa.RECOVERY_CODES


def test_new_phone_or_email_needs_the_password_but_a_pharmacy_does_not(session, now):
    patient = create_patient(session)
    user = create_user(session, Role.PATIENT, patient, username="pat")
    for field, value in (("phone", "555-0199"), ("email", "new@example.com")):
        with pytest.raises(InvalidInput, match="password or code is not right"):
            profile_changes.request_changes(
                user, patient.id, {field: value}, session=session, now=now
            )
    assert session.exec(select(ProfileChangeRequest)).all() == []
    profile_changes.request_changes(
        user, patient.id, {"preferred_pharmacy": "Elm Pharmacy"}, session=session, now=now
    )
    profile_changes.request_changes(
        user, patient.id, {"phone": "555-0199"}, proof=TEST_PASSWORD, session=session, now=now
    )
    assert {c.field for c in session.exec(select(ProfileChangeRequest))} == {
        "preferred_pharmacy",
        "phone",
    }


def test_account_security_page_asks_for_the_password_to_turn_mfa_off(app_env, session, now):
    user, _ = _patient_with_mfa(session, now)
    at = open_app("pat", "account_security")
    # The second such field: the first belongs to "Make new recovery codes".
    [_, field] = [t for t in at.text_input if t.label.startswith("Current password (or a code")]
    field.input("not my password")
    at = click(at, "Turn off two-step sign-in")
    assert any("password or code is not right" in e.value for e in at.error)
    session.expire_all()
    assert session.get(User, user.id).mfa_enabled_at is not None
    [_, field] = [t for t in at.text_input if t.label.startswith("Current password (or a code")]
    field.input(TEST_PASSWORD)
    at = click(at, "Turn off two-step sign-in")
    assert [s.value for s in at.success][0] == "Two-step sign-in is off."
    session.expire_all()
    assert session.get(User, user.id).mfa_enabled_at is None
