"""The patient's "Request a visit" form (what for, which days and times, which provider, how)
and the list of their requests with where each stands."""

from collections.abc import Callable

import streamlit as st

from components.plain_text import md_literal
from components.visit_card import slot_label
from db.models import VisitRequest
from portal.services.scheduling.visit_requests import (
    DAY_PARTS,
    PART_LABELS,
    STATUS_WORDS,
    WEEKDAYS,
    describe_preferences,
)
from portal.services.scheduling.visit_types import MODE_LABELS, VISIT_TYPES, label


def visit_request_form(
    names: dict[int, str], send: Callable[..., None], *, submit: str = "Send request"
) -> None:
    """Draw the form; on submit call ``send(**fields)`` (the page runs the service).
    ``submit``: the button's label, naming whom the request is for (Markdown-escaped)."""
    with st.form("visit_request_form"):
        st.subheader("Request a visit")
        st.caption("No time suits you? Tell us and the front desk will book one and let you know.")
        visit_type = st.selectbox("Visit type", list(VISIT_TYPES), format_func=label, key="rq_t")
        reason = st.text_area("Reason for the visit", max_chars=2000, key="rq_reason")
        provider = st.selectbox(
            "Preferred provider",
            [None, *names],
            format_func=lambda pid: "Any provider" if pid is None else names[pid],
            key="rq_provider",
        )
        mode = st.radio(
            "How",
            [None, *MODE_LABELS],
            format_func=lambda m: "Either" if m is None else MODE_LABELS[m],
            horizontal=True,
            key="rq_mode",
        )
        days = st.multiselect(
            "Days that suit you (leave empty for any day)",
            list(range(7)),
            format_func=WEEKDAYS.__getitem__,
            key="rq_days",
        )
        parts = st.multiselect(
            "Times of day that suit you (leave empty for any time)",
            list(DAY_PARTS),
            format_func=PART_LABELS.__getitem__,
            key="rq_parts",
        )
        times = st.text_input("Anything else about times (optional)", max_chars=500, key="rq_times")
        if st.form_submit_button(md_literal(submit)):
            send(
                visit_type=visit_type,
                reason=reason,
                practitioner_id=provider,
                mode=mode,
                preferred_days=days,
                preferred_parts=parts,
                preferred_times=times,
            )


def visit_request_list(requests: list[VisitRequest], names: dict[int, str]) -> None:
    if not requests:
        return
    st.subheader("Your visit requests")
    for request in requests:
        with st.container(border=True):
            st.text(f"{label(request.visit_type)}: {request.reason}")  # patient text: literal
            who = "Any provider"
            if request.practitioner_id is not None:
                who = names.get(request.practitioner_id, who)
            st.caption(
                md_literal(
                    f"{STATUS_WORDS.get(request.status, request.status)} · {who} · "
                    f"{describe_preferences(request)} · sent {slot_label(request.created_at, '')}"
                )
            )
