"""The staff side of one triage item: its header, the generic actions (claim, assign, status),
the kind-specific panel (reply, refill decision, profile decision) and its history.

Every action passes the version the staff member last saw (kept in session state between runs);
if someone else changed the item meanwhile the service raises StaleItem, and the page says so
and shows the item as it is now.
"""

from collections.abc import Callable

import streamlit as st

from components import session_keys as keys
from components.message_thread import render_thread
from components.permission_gate import can
from components.plain_text import md_literal
from components.portal_errors import show_error
from components.reading_alert_panel import render_reading_alert
from components.request_panels import referral_panel, visit_request_panel
from components.request_ui import flash, local_time, now
from db.models import TriageItem, TriageStatus, User
from portal.errors import PortalError
from portal.permissions import Action
from portal.services import messages, profile_changes, referrals, refills, reply_templates, triage
from portal.services.profile_changes import FIELDS
from portal.services.readings import alerts as reading_alerts
from portal.services.scheduling import visit_requests
from portal.services.unit_of_work import session_scope


def seen_version(item: TriageItem) -> int:
    """The version shown to this staff member on the previous run (else the current one)."""
    return st.session_state.setdefault(keys.TRIAGE_SEEN_VERSIONS, {}).get(item.id, item.version)


def remember_version(item: TriageItem) -> None:
    """Call after drawing the item: this is the state the next action is based on."""
    st.session_state.setdefault(keys.TRIAGE_SEEN_VERSIONS, {})[item.id] = item.version


def run_action(action: Callable[..., object], success: str, *, clear: tuple[str, ...] = ()) -> None:
    """Run a staff action in its own session; turn domain errors into messages.

    ``clear`` names text boxes to empty after success (on the next run: a drawn widget's value
    cannot be changed), so a sent reply does not sit there inviting a second send."""
    try:
        with session_scope() as session:
            action(session)
    except triage.StaleItem as error:
        flash("warning", error.user_message)
        st.session_state.get(keys.TRIAGE_SEEN_VERSIONS, {}).pop(error.current.id, None)
        st.rerun()
    except PortalError as error:
        show_error(error)
        return
    flash("success", success)
    if clear:
        st.session_state[keys.TRIAGE_CLEAR_FIELDS] = clear
    st.rerun()


def render_item(user: User, item_id: int) -> None:
    with session_scope() as session:
        item = triage.get_item(user, item_id, session=session, now=now())
        staff = triage.staff_members(user, session=session)
        history = triage.history(user, item_id, session=session)
    seen = seen_version(item)
    names = {u.id: u.display_name or u.username for u in staff}
    st.subheader(md_literal(f"{triage.kind_label(item.kind)}: {item.summary}"))
    overdue = item.due_at < now() and item.status != TriageStatus.CLOSED
    st.caption(
        md_literal(
            f"Status: {triage.status_label(item.status)} · "
            f"Assignee: {names.get(item.assignee_user_id, 'nobody')} · "
            f"Due {local_time(item.due_at)}{' (overdue)' if overdue else ''} · "
            f"Received {local_time(item.created_at)}"
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
        visit_request_panel(user, item, seen, run_action)
    elif item.kind == referrals.KIND:
        referral_panel(user, item, seen, run_action)
    with st.expander("History"):
        for row in history:
            change = (
                f" -> {triage.status_label(row.event.to_status)}" if row.event.to_status else ""
            )
            detail = f": {row.event.detail}" if row.event.detail else ""
            when = local_time(row.event.at)
            st.text(f"{when} · {row.actor_name} · {row.event.action}{change}{detail}")
    remember_version(item)


def routing_actions(user: User, item: TriageItem, seen: int) -> None:
    """Claim, assign and status change for one item, outside the inbox (the refill queue)."""
    with session_scope() as session:
        staff = triage.staff_members(user, session=session)
    _generic_actions(user, item, seen, staff)


def _generic_actions(user: User, item: TriageItem, seen: int, staff: list[User]) -> None:
    cols = st.columns(2)
    if item.assignee_user_id != user.id and cols[0].button("Claim", key=f"claim_{item.id}"):
        run_action(
            lambda s: triage.claim(user, item.id, seen, session=s, now=now()),
            "You claimed this item.",
        )
    with cols[1].popover("Assign / status"):
        with st.form(f"assign_{item.id}"):
            ids = [u.id for u in staff]
            names = {u.id: u.display_name or u.username for u in staff}
            assignee = st.selectbox(
                "Assign to", ids, format_func=names.get, key=f"assignee_{item.id}"
            )
            if st.form_submit_button("Assign"):
                run_action(
                    lambda s: triage.assign(user, item.id, seen, assignee, session=s, now=now()),
                    f"Assigned to {names.get(assignee)}.",
                )
        with st.form(f"status_{item.id}"):
            statuses = list(triage.STATUS_LABELS)
            status = st.selectbox(
                "New status", statuses, format_func=triage.status_label, key=f"status_{item.id}"
            )
            reason = st.text_input("Reason", key=f"status_reason_{item.id}")
            if st.form_submit_button("Change status"):
                run_action(
                    lambda s: triage.change_status(
                        user, item.id, seen, status, reason, session=s, now=now()
                    ),
                    f"Status changed to {triage.status_label(status)}.",
                )


def _message_panel(user: User, item: TriageItem, seen: int) -> None:
    with session_scope() as session:
        view = messages.thread_for_item(user, item.id, session=session, now=now())
        templates = reply_templates.active_templates(user, session=session)
    render_thread(view, user, now=now())
    by_title = {t.title: t.body for t in templates}
    body_key = f"reply_body_{item.id}"
    if body_key in st.session_state.get(keys.TRIAGE_CLEAR_FIELDS, ()):
        st.session_state.pop(keys.TRIAGE_CLEAR_FIELDS)
        st.session_state[body_key] = ""
        st.session_state[f"template_{item.id}"] = ""
        st.session_state.pop(f"template_used_{item.id}", None)
    choice = st.selectbox("Start from a saved reply", ["", *by_title], key=f"template_{item.id}")
    # The template fills the text box once, when picked; staff then edit it freely.
    if choice and st.session_state.get(f"template_used_{item.id}") != choice:
        st.session_state[body_key] = by_title[choice]
        st.session_state[f"template_used_{item.id}"] = choice
    with st.form(f"staff_reply_{item.id}"):
        body = st.text_area("Reply to the patient", key=body_key)
        keep_open = st.checkbox("Keep open (waiting on patient)", key=f"keep_open_{item.id}")
        if st.form_submit_button("Send reply", type="primary"):
            run_action(
                lambda s: messages.staff_reply(
                    user, item.id, seen, body=body, close=not keep_open, session=s, now=now()
                ),
                "Reply sent.",
                clear=(body_key,),
            )


def refill_panel(user: User, item: TriageItem, seen: int) -> None:
    """Medication, last visit, related labs and the approve / deny form (also the refill queue)."""
    with session_scope() as session:
        context = refills.refill_context(user, item.id, session=session, now=now())
    med, refill = context.medication, context.refill
    st.markdown(f"**{md_literal(med.display)}**")
    if med.dosage_text:
        st.text(med.dosage_text)
    st.text(f"Patient: {context.patient.display_name} · Pharmacy: {refill.pharmacy}")
    if refill.note:
        st.text(f"Patient's note: {refill.note}")
    visit = context.last_visit
    st.text(
        f"Last visit: {local_time(visit.start)} ({visit.type_display})"
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
                    "Date": local_time(o.effective_at),
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
    with st.form(f"refill_decision_{item.id}"):
        reason = st.text_area(
            "Reason (required to deny; shown to the patient)", key=f"rr_{item.id}"
        )
        approve_col, deny_col = st.columns(2)
        if approve_col.form_submit_button("Approve", type="primary"):
            run_action(
                lambda s: refills.decide_refill(
                    user, item.id, seen, approve=True, reason=reason, session=s, now=now()
                ),
                "Refill approved; the patient has been notified.",
            )
        if deny_col.form_submit_button("Deny"):
            run_action(
                lambda s: refills.decide_refill(
                    user, item.id, seen, approve=False, reason=reason, session=s, now=now()
                ),
                "Refill denied; the patient has been notified.",
            )


def _profile_panel(user: User, item: TriageItem, seen: int) -> None:
    with session_scope() as session:
        _, change = profile_changes.change_for_item(user, item.id, session=session)
    label = FIELDS[change.field].label
    st.text(f"{label}: '{change.old_value or ''}' -> '{change.new_value}'")
    st.caption(md_literal(f"Change status: {change.status}"))
    if change.status != "pending":
        return
    with st.form(f"profile_decision_{item.id}"):
        reason = st.text_input("Reason (required to reject)", key=f"pr_{item.id}")
        accept_col, reject_col = st.columns(2)
        if accept_col.form_submit_button("Accept", type="primary"):
            run_action(
                lambda s: profile_changes.decide_change(
                    user, item.id, seen, accept=True, reason=reason, session=s, now=now()
                ),
                f"{label} updated; the patient has been notified.",
            )
        if reject_col.form_submit_button("Reject"):
            run_action(
                lambda s: profile_changes.decide_change(
                    user, item.id, seen, accept=False, reason=reason, session=s, now=now()
                ),
                "Change rejected; the patient has been notified.",
            )
