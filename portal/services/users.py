"""Accounts: look-ups and self-service password change.

The credentials streamlit-authenticator checks come from ``login.credentials_entry``, one account
at a time, never the whole table.
"""

from datetime import datetime

from sqlmodel import Session, select

from db.models import User
from portal.errors import InvalidInput
from portal.password_policy import password_problems
from portal.passwords import hash_password, verify_password
from portal.services import audit, sessions
from portal.services import login as login_service
from portal.services import security_events as events

WRONG_CURRENT = "Your current password is not right. Please try again."
PAUSED = (
    "Your account is paused for a while after too many wrong passwords. Please try again later, "
    "or call the clinic."
)


def get_active_user(username: str | None, *, session: Session) -> User | None:
    """The active account with this username, or None (unknown, disabled, or no name)."""
    if not username:
        return None
    user = session.exec(select(User).where(User.username == username)).first()
    return user if user is not None and user.active else None


def change_password(
    user: User, *, current: str, new: str, confirm: str, session: Session, now: datetime
) -> None:
    """Change the user's own password and end every session started before ``now`` (audited).

    A wrong current password counts towards the sign-in lockout, so this form cannot be used to
    guess a password from an unattended browser.
    """
    account = session.get(User, user.id, with_for_update=True)
    if account is None or not account.active:
        raise InvalidInput(sessions.END_MESSAGES["disabled"])
    if login_service.is_locked(account, now):
        raise InvalidInput(PAUSED)
    if not verify_password(current or "", account.password_hash):
        login_service.register_failure(
            account, session=session, now=now, what="wrong current password at password change"
        )
        session.commit()
        raise InvalidInput(PAUSED if login_service.is_locked(account, now) else WRONG_CURRENT)
    problems = password_problems(new, username=account.username, confirm=confirm)
    if new == current:
        problems.append("Choose a new password, not the one you have now.")
    if problems:
        raise InvalidInput(" ".join(problems))
    account.password_hash = hash_password(new)
    account.failed_login_count = 0
    session.add(account)
    sessions.revoke_all(account, session=session, now=now, reason="password change")
    audit.record(
        session=session,
        actor=account,
        category=events.CREDENTIAL_CHANGE,
        action="change password",
        now=now,
    )
    session.commit()
