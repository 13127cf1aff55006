"""The one way a page runs an action: a service call in its own transaction; a refusal is a plain
message on this run; a success is said after a rerun, so the page is drawn again from what was
committed and the confirmation survives the redraw (a "flash")."""

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from components import session_keys as keys
from components.plain_text import alert
from components.portal_errors import show_error
from portal.errors import PortalError
from portal.services.unit_of_work import session_scope

T = TypeVar("T")

# What a success says: a text (shown as "success") or (kind, text), kind one of
# success / info / warning / error.
Confirmation = str | tuple[str, str]


def flash(kind: str, text: str) -> None:
    """Keep a message for the next run (shown by show_flash after st.rerun)."""
    st.session_state[keys.FLASH] = (kind, text)


def show_flash() -> None:
    """Show, once, the message an action kept for this run."""
    kind, text = st.session_state.pop(keys.FLASH, (None, None))
    if kind is not None:
        # Confirmations name medications, files, accounts and people: shown literally.
        alert(kind, text)


def run_action(
    action: Callable[..., T],
    success: Confirmation | Callable[[T], Confirmation] | None,
    *,
    after: Callable[[T], None] | None = None,
    refused: Callable[[PortalError], bool] | None = None,
) -> None:
    """Run ``action(session)`` in a fresh database session, then flash ``success`` (or
    ``success(result)``; None says nothing) and rerun. The action commits its own work.

    ``after(result)`` runs once the action committed, before the rerun (e.g. keep a one-time code
    to show, untick confirmations). ``refused(error)`` may handle a refusal itself: it returns
    True when it did (and flashed what to say), and the page is drawn again; otherwise the error
    is shown here and the page goes on with what it has.
    """
    try:
        with session_scope() as session:
            result = action(session)
    except PortalError as error:
        if refused is not None and refused(error):
            st.rerun()
        show_error(error)
        return
    said = success(result) if callable(success) else success
    if said is not None:
        kind, text = ("success", said) if isinstance(said, str) else said
        flash(kind, text)
    if after is not None:
        after(result)
    st.rerun()
