"""The one way a page runs an action: a service call in its own transaction; a refusal is a plain
message on this run; a success is said after a rerun, so the page is drawn again from what was
committed and the confirmation survives the redraw (a "flash")."""

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from components import session_keys as keys
from components.plain_text import alert, md_literal
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


# The toast's icon for each kind of flash (Material icons, as Streamlit names them).
_TOAST_ICONS = {
    "success": ":material/check_circle:",
    "info": ":material/info:",
    "warning": ":material/warning:",
    "error": ":material/error:",
}


def show_flash() -> None:
    """Show, once, the message an action kept for this run: in the page's message area at the
    top, and as a toast where the person is. The button they pressed may be far down the page
    (Send reply under a long conversation) and the rerun keeps that scroll, so the top alone is
    out of sight and the confirmation would go unseen."""
    kind, text = st.session_state.pop(keys.FLASH, (None, None))
    if kind is not None:
        # Confirmations name medications, files, accounts and people: shown literally.
        alert(kind, text)
        st.toast(md_literal(text), icon=_TOAST_ICONS.get(kind, _TOAST_ICONS["info"]))


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
