"""Staff triage inbox: every open patient request in one queue, overdue first."""

import pandas as pd
import streamlit as st

from components import session_keys as keys
from components.actions import show_flash
from components.current_user import current_user
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from components.remembered_pick import remembered_pick
from components.request_card import render_item
from db.models import OPEN_TRIAGE_STATUSES, TriageStatus, saved_id
from portal.clock import utcnow
from portal.services import triage
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime

STATUS_CHOICES = {"open": "All open", **triage.STATUS_LABELS}


def _overdue_style(value: str) -> str:
    return "background-color: #b00020; color: white; font-weight: bold" if value else ""


INBOX_COLUMNS = {
    "Priority": st.column_config.TextColumn(width=70, pinned=True),
    "Status": st.column_config.TextColumn(width=110, pinned=True),
    "Due": st.column_config.TextColumn(width=140, pinned=True),
    "Overdue": st.column_config.TextColumn(width=80, pinned=True),
    "Assignee": st.column_config.TextColumn(width=110, pinned=True),
    "Patient": st.column_config.TextColumn(width=120),
    "Type": st.column_config.TextColumn(width=100),
    "Request": st.column_config.TextColumn(width=260),
    "#": st.column_config.NumberColumn(width=50),
}


def render() -> None:
    user = current_user()
    st.title("Triage inbox")
    show_flash()

    with errors_as_messages(), session_scope() as session:
        counts = triage.queue_counts(user, session=session, now=utcnow())
        staff = triage.staff_members(user, session=session)

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
            format_func=lambda s: STATUS_CHOICES[s],
            key="triage_filter_status",
        )
        # The three filters, then each staff member by id (ids never equal the filter words).
        choices: dict[str | int, str] = {ANY: "Anyone", MINE: "Me", UNASSIGNED: "Unassigned"}
        choices |= {saved_id(u): u.display_name or u.username for u in staff}
        assignee = st.selectbox(
            "Assignee",
            list(choices),
            format_func=choices.__getitem__,
            key="triage_filter_assignee",
        )
        overdue_only = st.checkbox("Overdue only", key="triage_filter_overdue")

    statuses = OPEN_TRIAGE_STATUSES if status == "open" else (status,)
    with session_scope() as session:
        rows = triage.list_items(
            user,
            session=session,
            now=utcnow(),
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

    # The columns that decide the order come first, narrow and pinned, so they stay in view at
    # 1280 px; the request text takes what is left.
    table = pd.DataFrame(
        [
            {
                "Priority": triage.priority_label(r.item.priority),
                "Status": triage.status_label(r.item.status),
                "Due": format_datetime(r.item.due_at),
                "Overdue": "OVERDUE" if r.overdue else "",
                "Assignee": r.assignee_name or "Unassigned",
                "Patient": r.patient_name,
                "Type": r.kind_label,
                "Request": r.item.summary,
                "#": r.item.id,
            }
            for r in rows
        ]
    )
    late = sum(r.overdue for r in rows)
    if late:
        st.error(f"{late:,} overdue: past the time the clinic promised an answer.")
    st.dataframe(
        table.style.map(_overdue_style, subset=["Overdue"]),
        hide_index=True,
        column_config=INBOX_COLUMNS,
    )

    ids = [saved_id(r.item) for r in rows]
    by_id = {saved_id(r.item): r for r in rows}
    item_id = remembered_pick(
        st.selectbox,
        "Open item",
        ids,
        keys.TRIAGE_SELECTED_ITEM,
        format_func=lambda i: (
            f"#{i} · {by_id[i].kind_label} · {by_id[i].patient_name} · {by_id[i].item.summary}"
        ),
        key="triage_open_item",
    )
    if by_id[item_id].item.status == TriageStatus.CLOSED:
        st.caption("This item is closed.")
    render_item(user, item_id)
