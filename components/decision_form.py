"""The staff decision form on a patient's request (refill, referral, profile change): a reason
box and a yes / no pair; each button runs the decision through the item's action runner."""

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import streamlit as st


class DecisionWords(NamedTuple):
    yes: str  # the button that grants ("Approve")
    no: str  # the button that refuses ("Deny")
    reason_label: str
    said_yes: str  # the confirmation after granting
    said_no: str


def decision_form(
    form_key: str,
    reason_key: str,
    words: DecisionWords,
    decide: Callable[..., object],
    run: Callable[[Callable[..., object], str], None],
    *,
    long_reason: bool = True,
) -> None:
    """``decide(granted, reason, session)`` records the decision; ``run(action, confirmation)``
    runs it (components/request_card.run_staff_action)."""
    with st.form(form_key):
        box = st.text_area if long_reason else st.text_input
        reason = box(words.reason_label, key=reason_key)
        yes_col, no_col = st.columns(2)
        if yes_col.form_submit_button(words.yes, type="primary"):
            run(partial(decide, True, reason), words.said_yes)
        if no_col.form_submit_button(words.no):
            run(partial(decide, False, reason), words.said_no)
