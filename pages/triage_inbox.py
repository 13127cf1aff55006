"""Staff triage inbox: every open patient request in one queue, overdue first."""

import streamlit as st

from components import session_keys as keys
from components.current_user import current_user
from components.plain_text import md_literal
from components.portal_errors import show_error
from components.request_card import render_item
from components.request_ui import local_time, now, show_flash
from db.engine import session_scope
from db.models import OPEN_TRIAGE_STATUSES, TriageStatus
from portal.errors import PortalError
from portal.services import triage

STATUS_CHOICES = {"open": "All open", **triage.STATUS_LABELS}


def _age(row) -> str:
    hours = (now() - row.item.created_at).total_seconds() / 3600
    return f"{hours / 24:.0f} d" if hours >= 48 else f"{hours:.0f} h"


def render() -> None:
    user = current_user()
    st.title("Triage inbox")
    show_flash()

    try:
        with session_scope() as session:
            counts = triage.queue_counts(user, session=session, now=now())
            staff = triage.staff_members(user, session=session)
    except PortalError as error:
        show_error(error)
        st.stop()

    kinds = triage.kinds()
    cols = st.columns(max(1, len(kinds)))
    for col, (kind, spec) in zip(cols, kinds.items(), strict=False):
        count = counts.get(kind, {"open": 0, "overdue": 0})
        col.metric(
            md_literal(spec.label),
            f"{count['open']:,}",
            delta=f"{count['overdue']:,} overdue",
            delta_color="off",
        )

    ANY, MINE, UNASSIGNED = "any", "mine", "unassigned"
    with st.container(horizontal=True):
        kind = st.selectbox(
            "Type",
            ["", *kinds],
            format_func=lambda k: kinds[k].label if k else "All types",
            key="triage_filter_kind",
        )
        status = st.selectbox(
            "Status",
            list(STATUS_CHOICES),
            format_func=STATUS_CHOICES.get,
            key="triage_filter_status",
        )
        names = {u.id: u.display_name or u.username for u in staff}
        assignee = st.selectbox(
            "Assignee",
            [ANY, MINE, UNASSIGNED, *names],
            format_func=lambda a: {ANY: "Anyone", MINE: "Me", UNASSIGNED: "Unassigned"}.get(
                a, names.get(a)
            ),
            key="triage_filter_assignee",
        )
        overdue_only = st.checkbox("Overdue only", key="triage_filter_overdue")

    statuses = OPEN_TRIAGE_STATUSES if status == "open" else (status,)
    with session_scope() as session:
        rows = triage.list_items(
            user,
            session=session,
            now=now(),
            kind=kind or None,
            statuses=statuses,
            assignee_id=user.id
            if assignee == MINE
            else (assignee if isinstance(assignee, int) else None),
            unassigned=assignee == UNASSIGNED,
            overdue_only=overdue_only,
        )

    if not rows:
        st.info("Nothing here. Every request matching these filters has been handled.")
        st.stop()

    st.dataframe(
        [
            {
                "#": r.item.id,
                "Type": r.kind_label,
                "Patient": r.patient_name,
                "Request": r.item.summary,
                "Age": _age(r),
                "Due": local_time(r.item.due_at) + (" (overdue)" if r.overdue else ""),
                "Priority": {1: "Urgent", 2: "Normal", 3: "Low"}.get(r.item.priority, ""),
                "Status": triage.status_label(r.item.status),
                "Assignee": r.assignee_name or "",
            }
            for r in rows
        ],
        hide_index=True,
    )

    ids = [r.item.id for r in rows]
    by_id = {r.item.id: r for r in rows}
    selected = st.session_state.get(keys.TRIAGE_SELECTED_ITEM)
    item_id = st.selectbox(
        "Open item",
        ids,
        index=ids.index(selected) if selected in ids else 0,
        format_func=lambda i: (
            f"#{i} · {by_id[i].kind_label} · {by_id[i].patient_name} · {by_id[i].item.summary}"
        ),
        key="triage_open_item",
    )
    st.session_state[keys.TRIAGE_SELECTED_ITEM] = item_id
    if by_id[item_id].item.status == TriageStatus.CLOSED:
        st.caption("This item is closed.")
    render_item(user, item_id)
