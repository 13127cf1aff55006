"""The sign-in state machine, in plain Python: password -> (second step | enrolment -> recovery
codes) -> signed in, and account activation by a clinic code.

Each step takes what the person sent and the half-finished sign-in (``Pending``, kept between
runs by components/login.py) and returns a ``Step``: the sign-in that waits now, the token of a
session it started, or the plain words to show. It never touches the browser or Streamlit; the
component applies the Step (session state, cookie).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NotRequired, TypedDict

from sqlmodel import Session

from db.models import User, saved_id
from portal.errors import PortalError
from portal.services import account_codes, mfa, sessions
from portal.services import login as login_service

# A half-finished sign-in (password accepted, code not yet entered) is forgotten after this.
PENDING_LIFETIME = timedelta(minutes=5)


class Pending(TypedDict):
    """A sign-in between steps. A dict, because it lives in Streamlit's session state."""

    user_id: int
    step: str  # "mfa": enter a code; "enrol": set up MFA; "codes": save the recovery codes
    since: datetime
    secret: NotRequired[str]  # the TOTP secret being enrolled
    codes: NotRequired[list[str]]  # recovery codes to show once


@dataclass(frozen=True)
class Step:
    """What a step decided. ``pending`` is the sign-in that waits now (None: none waits)."""

    pending: Pending | None = None
    token: str | None = None  # a session started: the person is signed in
    error: str | None = None  # a refusal, in plain words
    notice: str | None = None  # news that is not a refusal (account activated)


def still_pending(pending: Pending | None, now: datetime) -> Pending | None:
    """The half-finished sign-in, unless it is older than PENDING_LIFETIME."""
    if pending and now - pending["since"] > PENDING_LIFETIME:
        return None
    return pending


def _signed_in(user: User, *, session: Session, now: datetime, method: str) -> Step:
    return Step(token=sessions.start(user, session=session, now=now, method=method))


def after_password(
    accepted: str | None,
    tried: str | None,
    *,
    device_waits: bool,
    client: str | None,
    session: Session,
    now: datetime,
) -> Step:
    """The password form's verdict: ``accepted`` is the account whose password matched (None: it
    did not, or the account was left out); ``tried`` the name typed, to count a failure."""
    try:
        if device_waits:
            login_service.check_device(client, session=session, now=now)
        if accepted is None:
            login_service.password_failed(tried, None, session=session, now=now, client_key=client)
        result = login_service.password_passed(accepted, session=session, now=now)
    except login_service.LoginFailed as failed:
        return Step(error=failed.user_message)
    if result.next_step == "done":
        return _signed_in(result.user, session=session, now=now, method="password")
    pending = Pending(user_id=saved_id(result.user), step=result.next_step, since=now)
    if result.next_step == "enrol":
        pending["secret"] = mfa.new_secret()
    return Step(pending=pending)


def pending_user(pending: Pending | None, *, session: Session, now: datetime) -> User | None:
    """The account a half-finished sign-in belongs to, if it may still finish."""
    user = session.get(User, pending["user_id"]) if pending else None
    if user is None or not user.active or login_service.is_locked_until_reset(user, now):
        return None
    return user


_START_AGAIN = Step(error=login_service.LoginFailed.user_message)


def submit_code(pending: Pending | None, code: str, *, session: Session, now: datetime) -> Step:
    """The second step: a code from the authenticator app, or a recovery code."""
    user = pending_user(pending, session=session, now=now)
    if user is None:
        return _START_AGAIN
    # is_locked means locked_until is set; the second test tells mypy so.
    if login_service.is_locked(user, now) and user.locked_until is not None:
        wait = (user.locked_until - now).total_seconds()
        return Step(
            pending=pending,
            error=f"Too many wrong codes. Please wait {max(wait, 1):.0f} seconds and try again.",
        )
    if mfa.check_code(user, code, session=session, now=now):
        return _signed_in(user, session=session, now=now, method="password + MFA")
    if login_service.is_locked_until_reset(user, now):
        return _START_AGAIN
    return Step(pending=pending, error="That code is not right. Please try again.")


def submit_enrolment(
    pending: Pending | None, code: str, *, session: Session, now: datetime
) -> Step:
    """MFA set-up: the first code from the app turns it on; the recovery codes come next."""
    user = pending_user(pending, session=session, now=now)
    if user is None or pending is None:  # no user without a pending sign-in
        return _START_AGAIN
    try:
        codes = mfa.enable(user, pending["secret"], code, session=session, now=now)
    except PortalError as error:
        return Step(pending=pending, error=error.user_message)
    showing_codes: Pending = {**pending, "step": "codes", "codes": codes}
    return Step(pending=showing_codes)


def codes_saved(pending: Pending | None, *, session: Session, now: datetime) -> Step:
    """The person saved their recovery codes: the sign-in finishes."""
    user = pending_user(pending, session=session, now=now)
    if user is None:
        return _START_AGAIN
    return _signed_in(user, session=session, now=now, method="password + MFA enrolment")


def redeem_code(
    code: str, *, username: str, password: str, confirm: str, session: Session, now: datetime
) -> Step:
    """Activate an account (or reset its password) with a one-time code from the clinic."""
    try:
        account = account_codes.redeem(
            code, username=username, password=password, confirm=confirm, session=session, now=now
        )
    except PortalError as error:
        return Step(error=error.user_message)
    return Step(
        notice=f"Your account is ready. Sign in as {account.username} with your new password."
    )
