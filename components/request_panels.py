"""Triage panels for visit and referral requests: what the patient asked for, and the action that
settles it (book a visit from the request; approve or decline a referral). Patient text is shown
with st.text, never as markdown."""

import streamlit as st

from components.decision_form import ActionRunner, DecisionWords, decision_form, item_decision
from components.plain_text import md_literal
from components.visit_card import slot_label
from db.models import TriageItem, User, VisitRequestStatus, saved_id
from portal.clock import utcnow
from portal.services import referrals
from portal.services.scheduling import visit_requests
from portal.services.scheduling.provider_schedule import practitioners
from portal.services.scheduling.visit_types import MODE_LABELS, label
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def visit_request_panel(user: User, item: TriageItem, seen: int, run_action: ActionRunner) -> None:
    item_id = saved_id(item)
    with session_scope() as session:
        view = visit_requests.request_for_item(user, item_id, session=session, now=utcnow())
        names = {p.id: p.name for p in practitioners(session=session)}
    request = view.request
    st.text(f"Patient: {view.patient_name}")
    st.text(f"Visit type: {label(request.visit_type)}")
    st.text(f"Reason: {request.reason or '(none given)'}")
    st.text(f"Preferred provider: {view.provider_name or 'Any provider'}")
    st.text(f"How: {MODE_LABELS.get(request.mode or '', 'In person or video')}")
    st.text(f"Days and times that suit: {view.preferences}")
    if request.preferred_times:
        st.text(f"Patient's note on times: {request.preferred_times}")
    if view.booked is not None:
        provider = names.get(view.booked.practitioner_id, "")
        st.success(
            md_literal(
                f"Booked: {label(view.booked.visit_type)} · "
                f"{slot_label(view.booked.start, provider)}"
            ),
            icon=":material/event_available:",
        )
        return
    if request.status != VisitRequestStatus.OPEN:
        st.caption("This request was closed without a booking.")
        return
    st.markdown("**Book from this request**")
    everything = st.checkbox("Show all times (any provider, any day)", key=f"vr_all_{item_id}")
    with session_scope() as session:
        slots = visit_requests.slots_for_request(
            user, request, session=session, now=utcnow(), use_preferences=not everything
        )
    if not slots:
        st.info(
            "No open time matches the patient's preferences. Show all times, or call the "
            "patient to agree on one."
        )
        return
    by_key = {f"{s.practitioner_id}|{s.start.isoformat()}": s for s in slots}
    chosen = st.selectbox(
        "Open times that suit the patient" if not everything else "Open times",
        list(by_key),
        index=None,
        placeholder="Choose a time",
        format_func=lambda k: slot_label(by_key[k].start, names.get(by_key[k].practitioner_id, "")),
        key=f"vr_slot_{item_id}",
    )
    if (
        st.button(
            "Book and tell the patient",
            type="primary",
            key=f"vr_book_{item_id}",
            disabled=chosen is None,
        )
        and chosen is not None
    ):  # a disabled button is never clicked; this tells the type checker
        slot = by_key[chosen]
        run_action(
            lambda s: visit_requests.book_from_request(
                user,
                item_id,
                seen,
                session=s,
                now=utcnow(),
                practitioner_id=slot.practitioner_id,
                start=slot.start,
            ),
            "Visit booked; the request is closed and the patient has been notified.",
        )


def referral_panel(user: User, item: TriageItem, seen: int, run_action: ActionRunner) -> None:
    item_id = saved_id(item)
    with session_scope() as session:
        request = referrals.request_for_item(user, item_id, session=session, now=utcnow())
    st.text(f"Specialty: {request.specialty}")
    st.text(f"Reason: {request.reason}")
    if request.preferred_provider:
        st.text(f"Preferred specialist: {request.preferred_provider}")
    st.caption(f"Asked {format_datetime(request.created_at)}")
    if request.status != "open":
        words = referrals.REQUEST_STATUS_WORDS.get(request.status, request.status)
        decided = f" ({format_datetime(request.decided_at)})" if request.decided_at else ""
        st.caption(md_literal(f"Decision: {words}{decided}"))
        if request.decision_reason:
            st.text(f"Reason given: {request.decision_reason}")
        return
    decision_form(
        f"referral_decision_{item_id}",
        f"ref_reason_{item_id}",
        REFERRAL_WORDS,
        item_decision(referrals.decide_referral, user, item_id, seen),
        run_action,
    )


REFERRAL_WORDS = DecisionWords(
    yes="Approve referral",
    no="Decline referral",
    reason_label="Reason (required to decline; shown to the patient)",
    said_yes="Referral approved; the patient has been notified.",
    said_no="Referral declined; the patient has been notified.",
)
