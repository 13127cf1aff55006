"""The staff side of one triage item: its header, the generic actions (claim, assign, status),
the kind-specific panel (reply, refill decision, profile decision) and its history.

Every action passes the version the staff member last saw (kept in session state between runs);
if someone else changed the item meanwhile the service raises StaleItem, and the page says so
and shows the item as it is now.
"""

from collections.abc import Callable
from functools import partial

import streamlit as st

from components import session_keys as keys
from components.actions import flash, run_action
from components.decision_form import DecisionWords, decision_form, item_decision
from components.message_thread import render_thread
from components.permission_gate import can
from components.plain_text import md_literal
from components.reading_alert_panel import render_reading_alert
from components.request_panels import referral_panel, visit_request_panel
from db.models import (
    TriageItem,
    TriageStatus,
    User,
    saved_id,
)
from portal.clock import utcnow
from portal.errors import PortalError
from portal.permissions import Action
from portal.services import messages, profile_changes, referrals, refills, reply_templates, triage
from portal.services.profile_changes import FIELDS
from portal.services.readings import alerts as reading_alerts
from portal.services.scheduling import visit_requests
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def seen_version(item: TriageItem) -> int:
    """The version shown to this staff member on the previous run (else the current one)."""
    seen: dict[int | None, int] = st.session_state.setdefault(keys.TRIAGE_SEEN_VERSIONS, {})
    return seen.get(item.id, item.version)


def remember_version(item: TriageItem) -> None:
    """Call after drawing the item: this is the state the next action is based on."""
    st.session_state.setdefault(keys.TRIAGE_SEEN_VERSIONS, {})[item.id] = item.version


def _redraw_if_stale(error: PortalError) -> bool:
    """Someone changed the item meanwhile: say so, forget the version seen, show it as it is."""
    if not isinstance(error, triage.StaleItem):
        return False
    flash("warning", error.user_message)
    st.session_state.get(keys.TRIAGE_SEEN_VERSIONS, {}).pop(error.current.id, None)
    return True


def _clear_on_next_run(fields: tuple[str, ...], _result: object) -> None:
    st.session_state[keys.TRIAGE_CLEAR_FIELDS] = fields


def run_staff_action(
    action: Callable[..., object], success: str, *, clear: tuple[str, ...] = ()
) -> None:
    """A staff action on the item (components.actions.run_action), redrawn if it was stale.

    ``clear`` names text boxes to empty after success (on the next run: a drawn widget's value
    cannot be changed), so a sent reply does not sit there inviting a second send."""
    after = partial(_clear_on_next_run, clear) if clear else None
    run_action(action, success, refused=_redraw_if_stale, after=after)


def render_item(user: User, item_id: int) -> None:
    with session_scope() as session:
        item = triage.get_item(user, item_id, session=session, now=utcnow())
        staff = triage.staff_members(user, session=session)
        history = triage.history(user, item_id, session=session)
    seen = seen_version(item)
    names = {u.id: u.display_name or u.username for u in staff}
    st.subheader(md_literal(f"{triage.kind_label(item.kind)}: {item.summary}"))
    overdue = item.due_at < utcnow() and item.status != TriageStatus.CLOSED
    st.caption(
        md_literal(
            f"Status: {triage.status_label(item.status)} · "
            f"Assignee: {names.get(item.assignee_user_id, 'nobody')} · "
            f"Due {format_datetime(item.due_at)}{' (overdue)' if overdue else ''} · "
            f"Received {format_datetime(item.created_at)}"
        )
    )
    _generic_actions(user, item, seen, staff)
    if item.kind == messages.KIND:
        _message_panel(user, item, seen)
    elif item.kind == refills.KIND:
        refill_panel(user, item, seen)
    elif item.kind == profile_changes.KIND:
        _profile_panel(user, item, seen)
    elif item.kind == reading_alerts.KIND:
        render_reading_alert(user, item)
    elif item.kind == visit_requests.KIND:
        visit_request_panel(user, item, seen, run_staff_action)
    elif item.kind == referrals.KIND:
        referral_panel(user, item, seen, run_staff_action)
    with st.expander("History"):
        for row in history:
            change = (
                f" -> {triage.status_label(row.event.to_status)}" if row.event.to_status else ""
            )
            detail = f": {row.event.detail}" if row.event.detail else ""
            when = format_datetime(row.event.at)
            st.text(f"{when} · {row.actor_name} · {row.event.action}{change}{detail}")
    remember_version(item)


def routing_actions(user: User, item: TriageItem, seen: int) -> None:
    """Claim, assign and status change for one item, outside the inbox (the refill queue)."""
    with session_scope() as session:
        staff = triage.staff_members(user, session=session)
    _generic_actions(user, item, seen, staff)


def _generic_actions(user: User, item: TriageItem, seen: int, staff: list[User]) -> None:
    item_id = saved_id(item)
    cols = st.columns(2)
    if item.assignee_user_id != user.id and cols[0].button("Claim", key=f"claim_{item_id}"):
        run_staff_action(
            lambda s: triage.claim(user, item_id, seen, session=s, now=utcnow()),
            "You claimed this item.",
        )
    with cols[1].popover("Assign / status"):
        with st.form(f"assign_{item_id}"):
            names = {saved_id(u): u.display_name or u.username for u in staff}
            assignee = st.selectbox(
                "Assign to", list(names), format_func=names.__getitem__, key=f"assignee_{item_id}"
            )
            if st.form_submit_button("Assign"):
                run_staff_action(
                    lambda s: triage.assign(user, item_id, seen, assignee, session=s, now=utcnow()),
                    f"Assigned to {names.get(assignee)}.",
                )
        with st.form(f"status_{item_id}"):
            statuses = list(triage.STATUS_LABELS)
            status = st.selectbox(
                "New status", statuses, format_func=triage.status_label, key=f"status_{item_id}"
            )
            reason = st.text_input("Reason", key=f"status_reason_{item_id}")
            if st.form_submit_button("Change status"):
                run_staff_action(
                    lambda s: triage.change_status(
                        user, item_id, seen, status, reason, session=s, now=utcnow()
                    ),
                    f"Status changed to {triage.status_label(status)}.",
                )


def _message_panel(user: User, item: TriageItem, seen: int) -> None:
    item_id = saved_id(item)
    with session_scope() as session:
        view = messages.thread_for_item(user, item_id, session=session, now=utcnow())
        templates = reply_templates.active_templates(user, session=session)
    render_thread(view, user, now=utcnow())
    by_title = {t.title: t.body for t in templates}
    body_key = keys.reply_body(item_id)
    if body_key in st.session_state.get(keys.TRIAGE_CLEAR_FIELDS, ()):
        st.session_state.pop(keys.TRIAGE_CLEAR_FIELDS)
        st.session_state[body_key] = ""
        st.session_state[keys.reply_template(item_id)] = ""
        st.session_state.pop(keys.reply_template_used(item_id), None)
    choice = st.selectbox(
        "Start from a saved reply", ["", *by_title], key=keys.reply_template(item_id)
    )
    # The template fills the text box once, when picked; staff then edit it freely.
    if choice and st.session_state.get(keys.reply_template_used(item_id)) != choice:
        st.session_state[body_key] = by_title[choice]
        st.session_state[keys.reply_template_used(item_id)] = choice
    with st.form(f"staff_reply_{item_id}"):
        body = st.text_area("Reply to the patient", key=body_key)
        keep_open = st.checkbox("Keep open (waiting on patient)", key=f"keep_open_{item_id}")
        if st.form_submit_button("Send reply", type="primary"):
            run_staff_action(
                lambda s: messages.staff_reply(
                    user, item_id, seen, body=body, close=not keep_open, session=s, now=utcnow()
                ),
                "Reply sent.",
                clear=(body_key,),
            )


def refill_panel(user: User, item: TriageItem, seen: int) -> None:
    """Medication, last visit, related labs and the approve / deny form (also the refill queue)."""
    item_id = saved_id(item)
    with session_scope() as session:
        context = refills.refill_context(user, item_id, session=session, now=utcnow())
    med, refill = context.medication, context.refill
    st.markdown(f"**{md_literal(med.display)}**")
    if med.dosage_text:
        st.text(med.dosage_text)
    st.text(f"Patient: {context.patient.display_name} · Pharmacy: {refill.pharmacy}")
    if refill.note:
        st.text(f"Patient's note: {refill.note}")
    visit = context.last_visit
    st.text(
        f"Last visit: {format_datetime(visit.start)} ({visit.type_display})"
        if visit
        else "Last visit: none"
    )
    if context.labs:
        # A dataframe: st.table would render the EHR's test names as Markdown.
        st.dataframe(
            [
                {
                    "Test": o.display,
                    "Value": f"{o.value if o.value is not None else o.value_string} {o.unit or ''}",
                    "Flag": o.interpretation or "",
                    "Date": format_datetime(o.effective_at),
                }
                for o in context.labs
            ]
        )
    else:
        st.caption("No related labs on record.")
    st.caption(
        md_literal(f"Refill status: {refills.STATUS_LABELS.get(refill.status, refill.status)}")
    )
    if refill.status not in ("requested", "in_review"):
        return
    if not can(user, Action.DECIDE_REFILLS):
        # Say why the buttons are missing, and what this person can do instead.
        st.info(
            "Approving or denying a refill is a prescriber's decision, so those buttons are "
            "shown to clinicians only. You can review this request, claim it, assign it to a "
            "clinician, or change its status with a note (Assign / status above)."
        )
        return
    decision_form(
        f"refill_decision_{item_id}",
        f"rr_{item_id}",
        REFILL_WORDS,
        item_decision(refills.decide_refill, user, item_id, seen),
        run_staff_action,
    )


REFILL_WORDS = DecisionWords(
    yes="Approve",
    no="Deny",
    reason_label="Reason (required to deny; shown to the patient)",
    said_yes="Refill approved; the patient has been notified.",
    said_no="Refill denied; the patient has been notified.",
)


def _profile_panel(user: User, item: TriageItem, seen: int) -> None:
    item_id = saved_id(item)
    with session_scope() as session:
        _, change = profile_changes.change_for_item(user, item_id, session=session)
    label = FIELDS[change.field].label
    st.text(f"{label}: '{change.old_value or ''}' -> '{change.new_value}'")
    st.caption(md_literal(f"Change status: {change.status}"))
    if change.status != "pending":
        return
    words = DecisionWords(
        yes="Accept",
        no="Reject",
        reason_label="Reason (required to reject)",
        said_yes=f"{label} updated; the patient has been notified.",
        said_no="Change rejected; the patient has been notified.",
    )
    decision_form(
        f"profile_decision_{item_id}",
        f"pr_{item_id}",
        words,
        item_decision(profile_changes.decide_change, user, item_id, seen, yes="accept"),
        run_staff_action,
        long_reason=False,
    )
