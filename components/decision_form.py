"""The staff decision form on a patient's request (refill, referral, profile change): a reason
box and a yes / no pair; each button runs the decision through the item's action runner."""

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import streamlit as st

from components.plain_text import md_literal

# The item's action runner: run(action, confirmation) (components/request_card.run_staff_action).
ActionRunner = Callable[[Callable[..., object], str], None]


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
    run: ActionRunner,
    *,
    long_reason: bool = True,
) -> None:
    """``decide(granted, reason, session)`` records the decision; ``run(action, confirmation)``
    runs it (components/request_card.run_staff_action)."""
    # The words are the caller's constants; md_literal keeps the UI scan's rule without exception.
    with st.form(form_key):
        label = md_literal(words.reason_label)
        if long_reason:
            reason = st.text_area(label, key=reason_key)
        else:
            reason = st.text_input(label, key=reason_key)
        yes_col, no_col = st.columns(2)
        if yes_col.form_submit_button(md_literal(words.yes), type="primary"):
            run(partial(decide, True, reason), words.said_yes)
        if no_col.form_submit_button(md_literal(words.no)):
            run(partial(decide, False, reason), words.said_no)
