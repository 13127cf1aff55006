"""Small helpers the request pages share: one-shot confirmations and the clock.

Whose record a page acts for is components/patient_context.py (record_in_view); how a time is
shown is portal/timefmt.py."""

from datetime import UTC, datetime

import streamlit as st

from components import session_keys as keys
from components.plain_text import alert


def now() -> datetime:
    return datetime.now(UTC)


def flash(kind: str, text: str) -> None:
    """Keep a message for the next run (shown after st.rerun, i.e. after the commit)."""
    st.session_state[keys.REQUESTS_FLASH] = (kind, text)


def show_flash() -> None:
    kind, text = st.session_state.pop(keys.REQUESTS_FLASH, (None, None))
    if kind is not None:
        # Confirmations name medications, files and people: shown literally.
        alert(kind, text)
