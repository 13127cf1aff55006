"""One audit entry per view (portal/services/audit_views): a view lasts while the user stays on
one page; moving to another page (or back) starts a new one, so each visit is logged again."""

import streamlit as st

from portal.services import audit_views

_PAGE = "_audit_view_page"
_LOGGED = "_audit_view_logged"


def page_view(page_key: str):
    """The context to run the page in: reruns of the same page share one set of logged reads."""
    state = st.session_state
    if state.get(_PAGE) != page_key or _LOGGED not in state:
        state[_PAGE] = page_key
        state[_LOGGED] = set()
    return audit_views.one_entry_per_view(state[_LOGGED])
