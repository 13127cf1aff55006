"""Accounts: look-ups and the credentials streamlit-authenticator checks passwords against."""

from sqlmodel import Session, select

from db.models import User


def get_active_user(username: str | None, *, session: Session) -> User | None:
    """The active account with this username, or None (unknown, disabled, or no name)."""
    if not username:
        return None
    user = session.exec(select(User).where(User.username == username)).first()
    return user if user is not None and user.active else None


def authenticator_credentials(*, session: Session) -> dict:
    """Credentials for streamlit-authenticator, built from the users table (never a YAML file)."""
    users = session.exec(select(User).where(User.active.is_(True))).all()
    return {
        "usernames": {
            u.username: {
                "name": u.display_name or u.username,
                "email": u.email or "",
                "password": u.password_hash,
                "roles": [str(u.role)],
            }
            for u in users
        }
    }
