"""Who is signed in: the one answer for every page, component and callback.

It is the portal's own server-side session (components/login.py keeps its token under
``keys.AUTH_TOKEN``): validated against the database on every call, so idle time-out, the absolute
lifetime, sign-out elsewhere, a password change and a disabled account all take effect at once.
Nothing here reads what the sign-in package leaves in session state."""

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from components import session_keys as keys
from db.models import User
from portal.clock import utcnow
from portal.services import sessions
from portal.services.unit_of_work import session_scope


def session_token() -> str | None:
    """This browser tab's session token (None before sign-in)."""
    return st.session_state.get(keys.AUTH_TOKEN)


def user_for_token(token: str | None, *, now: datetime | None = None) -> User:
    """The user of a live session, or raise ``sessions.SessionEnded`` (usable outside a script run,
    e.g. in a download callable, where session state cannot be read)."""
    with session_scope() as db:
        return sessions.current_user(token, session=db, now=now or utcnow())


def forget_everything(*, notice: str | None = None) -> None:
    """Wipe this tab's session state but the allow-list, so nothing one person saw (a code, a chart,
    a draft, a chosen record) is there for the next. Sign-in, sign-out and time-out call it."""
    for key in list(st.session_state.keys()):
        if not keys.kept_across_users(str(key)):  # the kept keys are all strings
            del st.session_state[key]
    if notice:
        st.session_state[keys.LOGIN_NOTICE] = notice


def end_browser_session(ended: sessions.SessionEnded) -> None:
    """The server said the session is over: forget everything and ask the browser to drop the
    cookie; the sign-in screen says why."""
    forget_everything(notice=ended.user_message)
    st.session_state[keys.COOKIE_TO_DELETE] = True


def current_user() -> User:
    """The signed-in user, checked against the server-side session now. When the session has
    ended, the tab forgets everything and the whole app reruns into the sign-in screen."""
    try:
        return user_for_token(session_token())
    except sessions.SessionEnded as ended:
        end_browser_session(ended)
        st.rerun(scope="app")


def for_signed_in(produce: Callable[[User], bytes], token: str | None) -> Callable[[], bytes]:
    """A download callable that checks the session ``token`` again when the button is clicked (it
    runs outside the script run, maybe long after the page was drawn): no live session, no file."""

    def download() -> bytes:
        user = user_for_token(token)  # raises SessionEnded: Streamlit serves no file
        return produce(user)

    return download
