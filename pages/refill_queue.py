"""Refill queue: open refill requests with the medication, last visit and related labs.

Staff review and route them here; approve / deny is drawn only for roles that may decide."""

import streamlit as st

from components import session_keys as keys
from components.actions import show_flash
from components.current_user import current_user
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from components.remembered_pick import remembered_pick
from components.request_card import (
    refill_panel,
    remember_version,
    routing_actions,
    seen_version,
)
from portal.clock import utcnow
from portal.services import refills, triage
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def render() -> None:
    user = current_user()
    st.title("Refill queue")
    show_flash()

    with errors_as_messages(), session_scope() as session:
        rows = triage.list_items(user, session=session, now=utcnow(), kind=refills.KIND)

    if not rows:
        st.info("No refill requests are waiting.")
        st.stop()

    ids = [r.item.id for r in rows]
    by_id = {r.item.id: r for r in rows}
    item_id = remembered_pick(
        st.radio,
        "Refill requests",
        ids,
        keys.REFILL_QUEUE_SELECTED_ITEM,
        # Radio options are Markdown; the name and the summary are patient / EHR text.
        format_func=lambda i: md_literal(
            f"{by_id[i].patient_name} · {by_id[i].item.summary} · due "
            f"{format_datetime(by_id[i].item.due_at)}{' (overdue)' if by_id[i].overdue else ''}"
        ),
        key="refill_queue_item",
    )
    item = by_id[item_id].item
    seen = seen_version(item)
    # Everyone here may route the request; only those who may decide see approve / deny.
    routing_actions(user, item, seen)
    refill_panel(user, item, seen)
    remember_version(item)
