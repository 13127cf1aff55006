"""The signed-in account for a page. app.py's login gate has already checked it; pages load it
again from the database so the role and patient link never come from session state."""

import streamlit as st

from components import session_keys as keys
from db.engine import session_scope
from db.models import User
from portal.services.users import get_active_user


def current_user() -> User:
    """The active signed-in user; stops the page if there is none (e.g. disabled meanwhile)."""
    username = (
        st.session_state.get(keys.AUTH_USERNAME) if st.session_state.get(keys.AUTH_STATUS) else None
    )
    with session_scope() as session:
        user = get_active_user(username, session=session)
    if user is None:
        st.error("Your session has ended. Please sign in again.")
        st.stop()
    return user
