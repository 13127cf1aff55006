"""The staff decision form on a patient's request (refill, referral, profile change): a reason
box and a yes / no pair; each button runs the decision through the item's action runner."""

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import streamlit as st

from components.plain_text import md_literal
from db.models import User
from portal.clock import utcnow
from portal.services.unit_of_work import Session

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


def item_decision(
    decide: Callable[..., object], user: User, item_id: int, seen: int, *, yes: str = "approve"
) -> Callable[[bool, str, Session], object]:
    """The form's ``decide`` for one triage item: the service's decision call
    (refills.decide_refill, referrals.decide_referral, ...) on the version ``seen``, at the
    clock's now. ``yes`` is the service's keyword for granting ("accept" for a profile change)."""

    def on_item(granted: bool, reason: str, session: Session) -> object:
        return decide(
            user, item_id, seen, **{yes: granted}, reason=reason, session=session, now=utcnow()
        )

    return on_item
