"""A picker that keeps its choice (a conversation, a triage item) under a session key of its own,
so the same one is open again after an action reruns the page or a visit to another page, as long
as it is still listed."""

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")


def remembered_pick(
    pick: Callable[..., Any], label: str, options: list[T], state_key: str, **widget: Any
) -> T:
    """``pick`` (st.radio, st.selectbox) preset to the choice kept under ``state_key`` (the first
    option once that one is gone); what is picked is kept there for the next run."""
    kept = st.session_state.get(state_key)
    chosen: T = pick(label, options, index=options.index(kept) if kept in options else 0, **widget)
    st.session_state[state_key] = chosen
    return chosen
