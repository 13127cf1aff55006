"""The clinic's own administrator, made on the server's command line (``cli create-admin``).

A portal prepared without the demo has no account at all, so nobody could sign in to create one.
The person with shell access to the server makes the first administrator (or another one, say when
the only administrator left); the account then signs in like any staff account and, as staff must,
sets up two-step sign-in on its first sign-in (``login.mfa_step_for``).
"""

from datetime import datetime

from sqlmodel import Session, select

from db.models import Role, User
from portal.errors import InvalidInput
from portal.password_policy import password_problems
from portal.passwords import hash_password
from portal.services import audit
from portal.services import security_events as events
from portal.services.account_codes import USERNAME_PATTERN

ACTION = "create admin (command line)"  # the column holds 32 characters
BAD_USERNAME = (
    "Choose a username of 3 to 64 characters: lower-case letters, digits, dot, dash or "
    "underscore, starting with a letter or digit."
)


class UsernameTaken(InvalidInput):
    """An account with that username exists already."""


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def username_problem(username: str, *, session: Session) -> str | None:
    """Why this username cannot be used for a new administrator, or None."""
    username = normalize_username(username)
    if not USERNAME_PATTERN.match(username):
        return BAD_USERNAME
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        return (
            f"There is already an account called {username}. Choose another username; to let "
            "that person in again, reset their password or two-step sign-in under "
            "Administration > Users and roles."
        )
    return None


def create_admin(
    *,
    username: str,
    password: str,
    confirm: str,
    display_name: str = "",
    operator: str = "",
    session: Session,
    now: datetime,
) -> User:
    """A new active administrator with this password and no two-step sign-in yet (audited).

    ``operator`` names who ran the command (the system user), for the audit trail. A refusal is
    audited as denied and committed, like the refusals on the Users and roles page.
    """
    username = normalize_username(username)
    problem = username_problem(username, session=session)
    if problem is None:
        problems = password_problems(password, username=username, confirm=confirm)
        problem = " ".join(problems) or None
    if problem is not None:
        _record(username, operator, session=session, now=now, refused=problem)
        error = UsernameTaken if problem.startswith("There is already") else InvalidInput
        raise error(problem)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=Role.ADMIN,
        display_name=(display_name or "").strip()[:200] or username,
        created_at=now,
    )
    session.add(user)
    session.flush()
    _record(username, operator, session=session, now=now, refused=None)
    return user


def _record(
    username: str, operator: str, *, session: Session, now: datetime, refused: str | None
) -> None:
    by = f" by system user {operator}" if operator else ""
    if refused is None:
        detail = f"account {username}: role admin{by}; two-step sign-in to be set up"
    else:
        # The reason, never the password: policy messages do not quote it.
        detail = f"account {username or '(none)'}{by}: {refused}"[:1000]
    audit.record(
        session=session,
        actor=None,
        category=events.USER_ADMIN,
        action=ACTION,
        outcome=audit.Outcome.SUCCESS if refused is None else audit.Outcome.DENIED,
        detail=detail,
        now=now,
    )
    session.commit()
