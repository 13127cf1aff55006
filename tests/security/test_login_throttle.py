"""Sign-in throttling: growing waits per account and per device instead of a lockout a stranger
could cause (portal/services/login_throttle.py), on both databases."""

from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent, Role, User
from portal.services import account_codes
from portal.services import login as login_service
from portal.services import login_throttle as throttle
from portal.services import security_events as events
from tests.factories import TEST_PASSWORD, create_patient, create_user

STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


def _try(session, now, username, password, client):
    try:
        return login_service.check_password(
            username, password, session=session, now=now, client_key=client
        )
    except login_service.LoginFailed as failed:
        return failed


def test_waits_double_after_the_free_attempts_and_stop_at_a_minute(session, now):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    waits = []
    t = now
    for _ in range(14):
        _try(session, t, "pat", "wrong-password-x", client=None)
        session.refresh(user)
        waits.append(round((user.locked_until - t).total_seconds()) if user.locked_until else 0)
        t = (user.locked_until or t) + timedelta(seconds=1)
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_a_stranger_guessing_all_day_keeps_the_owner_out_for_at_most_a_minute(session, now):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    t = now
    for _ in range(60):  # as fast as the waits allow, from many addresses
        user = session.exec(select(User).where(User.username == "pat")).one()
        t = max(t, user.locked_until or t)
        _try(session, t, "pat", "wrong-password-x", client=f"203.0.113.{_ % 200}")
    user = session.exec(select(User).where(User.username == "pat")).one()
    assert user.locked_until - t <= timedelta(seconds=60)
    refused = _try(session, t, "pat", TEST_PASSWORD, client=OWNER)
    assert isinstance(refused, login_service.LoginFailed)  # during the wait
    accepted = _try(session, t + timedelta(seconds=61), "pat", TEST_PASSWORD, client=OWNER)
    assert isinstance(accepted, login_service.PasswordAccepted)


def test_the_hundredth_failure_in_a_row_locks_until_a_clinic_reset(session, now, monkeypatch):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    user.failed_login_count = 99
    session.add(user)
    session.commit()
    _try(session, now, "pat", "wrong-password-x", client=None)
    session.refresh(user)
    assert login_service.is_locked_until_reset(user, now + timedelta(days=30))
    lock = session.exec(select(AuditEvent).where(AuditEvent.category == events.LOCKOUT)).one()
    assert "until reset" in lock.detail
    staff = create_user(session, Role.FRONT_DESK, username="desk")
    _purpose, code = account_codes.issue_code(staff, user.patient_id, session=session, now=now)
    account_codes.redeem(
        code,
        username="",
        password="a brand new sentence 42",
        confirm="a brand new sentence 42",
        session=session,
        now=now,
    )
    session.refresh(user)
    assert not login_service.is_locked(user, now)


def test_a_device_that_keeps_failing_waits_whatever_account_it_tries(session, now):
    create_user(session, Role.PATIENT, create_patient(session), username="pat")
    create_user(session, Role.PATIENT, create_patient(session), username="other")
    for n in range(9):  # nine names guessed from one address: free
        _try(session, now, f"guess{n}", "wrong-password-x", client=STRANGER)
    assert throttle.client_wait(STRANGER, session=session, now=now) == 0
    _try(session, now, "guess9", "wrong-password-x", client=STRANGER)
    waiting = _try(session, now, "pat", TEST_PASSWORD, client=STRANGER)
    assert isinstance(waiting, login_service.DeviceWaiting)
    assert "Too many sign-in attempts from this device" in waiting.user_message
    # The owner, on their own device, is not slowed by the stranger's guessing.
    assert isinstance(
        _try(session, now, "pat", TEST_PASSWORD, client=OWNER), login_service.PasswordAccepted
    )
    denied = session.exec(
        select(AuditEvent).where(AuditEvent.outcome == "denied", AuditEvent.category == "login")
    ).all()
    assert [e.detail for e in denied] == ["device waiting after many failures"]


def test_a_device_is_forgotten_an_hour_after_its_last_failure(session, now):
    for n in range(12):
        _try(session, now, f"guess{n}", "wrong-password-x", client=STRANGER)
    assert throttle.client_wait(STRANGER, session=session, now=now) > 0
    later = now + throttle.CLIENT_MEMORY + timedelta(minutes=1)
    _try(session, later, "guess", "wrong-password-x", client=STRANGER)
    assert throttle.client_wait(STRANGER, session=session, now=later) == 0


@pytest.mark.parametrize("failures", [0, 4])
def test_a_success_clears_the_account_count(session, now, failures):
    user = create_user(session, Role.PATIENT, create_patient(session), username="pat")
    for _ in range(failures):
        _try(session, now, "pat", "wrong-password-x", client=None)
    _try(session, now, "pat", TEST_PASSWORD, client=None)
    session.refresh(user)
    assert user.failed_login_count == 0 and user.locked_until is None
