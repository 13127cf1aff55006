"""Audit log (admin): search by user, patient, category and time; sort; export CSV (audited)."""

from datetime import datetime, time, timedelta
from functools import partial

import pandas as pd
import streamlit as st

from components.current_user import current_user
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from db.models import User
from portal.clock import utcnow
from portal.config import get_settings
from portal.services import audit_log
from portal.services.audit_chain import verify
from portal.services.unit_of_work import session_scope
from portal.timefmt import today_local


def _export_csv(user: User, flt: audit_log.AuditFilter, /) -> str:
    with session_scope() as session:
        return audit_log.export_csv(user, flt, session=session, now=utcnow())


def render() -> None:
    user = current_user()
    st.title("Audit log")
    # The first service call refuses (and audits) anyone the permission table does not allow.
    with errors_as_messages(), session_scope() as session:
        known_categories = audit_log.categories(user, session=session)

    today = today_local(utcnow())
    with st.form("audit_search"):
        left, right = st.columns(2)
        username = left.text_input("Username", max_chars=64)
        patient_text = right.text_input("Patient id", max_chars=12)
        category = left.selectbox("Category", ["(any)", *known_categories])
        period = right.date_input("From - to", value=(today - timedelta(days=7), today))
        st.form_submit_button("Search", type="primary", icon=":material/search:")

    patient_id = int(patient_text) if patient_text.strip().isdigit() else None
    if patient_text.strip() and patient_id is None:
        st.warning("Patient id is a number; it was ignored.")
    start_day, end_day = (period[0], period[-1]) if period else (None, None)
    tz = get_settings().tz
    flt = audit_log.AuditFilter(
        username=username or None,
        patient_id=patient_id,
        category=None if category == "(any)" else category,
        start=datetime.combine(start_day, time.min, tz) if start_day else None,
        end=datetime.combine(end_day + timedelta(days=1), time.min, tz) if end_day else None,
    )
    now = utcnow()
    with errors_as_messages(), session_scope() as session:
        rows = audit_log.search(user, flt, session=session, now=now)

    st.caption(f"{len(rows)} entries (newest first; click a column title to sort).")
    # Values go into a dataframe, which never renders them as markdown or HTML.
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When (UTC)": r.at,
                    "User": r.username or "",
                    "Role": r.role or "",
                    "Patient": r.patient_id,
                    "Category": r.category,
                    "Action": r.action,
                    "Outcome": r.outcome,
                    "Detail": r.detail or "",
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )

    # A callable: the CSV is built (and the export audited) only when the button is pressed.
    st.download_button(
        "Export CSV",
        data=partial(_export_csv, user, flt),
        file_name=f"audit-{today.isoformat()}.csv",
        mime="text/csv",
        icon=":material/download:",
    )

    if st.button("Verify the hash chain", icon=":material/verified:"):
        with session_scope() as session:
            result = verify(session)
        if result.ok:
            st.success(f"Audit trail intact: {result.checked:,} entries verified.")
        else:
            st.error(
                md_literal(f"Audit trail broken at entry {result.first_bad_id}: {result.problem}.")
            )
