"""One audit entry per view (portal/services/audit_views): a view lasts while the user stays on
one page; moving to another page (or back) starts a new one, so each visit is logged again."""

from contextlib import AbstractContextManager

import streamlit as st

from components import session_keys as keys
from portal.services import audit_views


def page_view(page_key: str) -> AbstractContextManager[None]:
    """The context to run the page in: reruns of the same page share one set of logged reads."""
    state = st.session_state
    if state.get(keys.AUDIT_VIEW_PAGE) != page_key or keys.AUDIT_VIEW_LOGGED not in state:
        state[keys.AUDIT_VIEW_PAGE] = page_key
        state[keys.AUDIT_VIEW_LOGGED] = set()
    return audit_views.one_entry_per_view(state[keys.AUDIT_VIEW_LOGGED])
