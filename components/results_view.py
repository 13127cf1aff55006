"""One view of the results page: latest value per test, then a chosen test's trend and history."""

import streamlit as st

from components import session_keys as keys
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from components.result_table import render_result_table
from components.trend_chart import render_trend_chart
from db.models import User
from portal.services.education import lab_description
from portal.services.results import list_results, result_trend
from portal.services.unit_of_work import session_scope


def render_results_tab(user: User, patient_id: int, category: str, *, empty: str) -> None:
    with errors_as_messages(), session_scope() as session:
        table = list_results(user, patient_id, session=session, category=category)
    if not table.rows:
        st.info(md_literal(empty))
        return
    st.subheader("Latest results")
    render_result_table(table.latest, key=f"results_latest:{category}")

    st.subheader("Over time")
    names = {t.code: t.name for t in table.tests}
    options = list(names)
    code = st.selectbox(
        "Test",
        options=options,
        # The most recent test that has numbers: a first view with a chart, not "no chart".
        index=options.index(table.default_code) if table.default_code in names else 0,
        format_func=names.__getitem__,
        # Per patient: a proxy switching records must not carry one child's choice to another.
        key=f"{keys.RESULTS_SELECTED_CODE}:{category}:{patient_id}",
    )
    if about := lab_description(code):
        st.caption(md_literal(f"About this test: {about}"))
    with errors_as_messages(), session_scope() as session:
        trend = result_trend(user, patient_id, code, session=session)
    render_trend_chart(trend)
    render_result_table(trend.history, key=f"results_history:{category}", with_time=True)
