"""Patient lookup (staff): find a patient by name, birth date or MRN and open the chart."""

from datetime import date

import pandas as pd
import streamlit as st

from components import session_keys as keys
from components.current_user import current_user
from components.navigation import page
from components.permission_gate import require_page_permission
from components.portal_errors import errors_as_messages
from components.record_tables import date_column, words
from db.models import User
from portal.clock import utcnow
from portal.permissions import Action
from portal.services.patients import PatientMatch, open_chart, search_patients
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_date, today_local

# Nobody alive was born earlier; the widget's own default floor (10 years ago) is far too late.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def match_label(match: PatientMatch) -> str:
    born = f"born {format_date(match.birth_date)}" if match.birth_date else "birth date unknown"
    return f"{match.name} · {born} · MRN {match.mrn or 'none'}"


def open_patient_chart(user: User, patient_id: int) -> None:
    with errors_as_messages(), session_scope() as session:
        header = open_chart(user, patient_id, session=session)
    st.session_state[keys.STAFF_OPEN_PATIENT_ID] = header.patient_id
    st.switch_page(page("health_summary"))


def render() -> None:
    user = current_user()
    st.title("Patient lookup")
    # The navigation never offers this page to patients; the check here (and in the services) makes
    # sure a forced visit shows nothing either.
    require_page_permission(user, Action.READ_ANY_CHART)

    with st.form("patient_lookup"):
        name = st.text_input("Name", placeholder="Family, given  or  given family", max_chars=200)
        birth_column, mrn_column = st.columns(2)
        birth_date = birth_column.date_input(
            "Birth date",
            value=None,
            min_value=EARLIEST_BIRTH_DATE,
            max_value=today_local(utcnow()),
            format="YYYY-MM-DD",
        )
        mrn = mrn_column.text_input("MRN", max_chars=64)
        submitted = st.form_submit_button("Search", type="primary", icon=":material/search:")

    # Form values stay as last submitted on later reruns (e.g. "Open chart"), so the search reruns.
    if not (name.strip() or birth_date or mrn.strip()):
        if submitted:
            st.warning("Enter a name, a birth date or an MRN to search.")
        st.stop()

    with errors_as_messages(), session_scope() as session:
        result = search_patients(user, session=session, name=name, birth_date=birth_date, mrn=mrn)

    if not result.matches:
        st.info("No patients match. Check the spelling, or search by birth date or MRN.")
        st.stop()

    table = st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": m.name,
                    "Birth date": m.birth_date,
                    "Sex": words(m.sex) if m.sex else "",
                    "MRN": m.mrn,
                }
                for m in result.matches
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"Birth date": date_column("Birth date")},
        on_select="rerun",
        selection_mode="single-row",
        key="lookup_results",
    )
    if result.truncated:
        st.caption(
            f"Showing the first {len(result.matches)} matches. Add a birth date or more of the "
            "name to narrow the search."
        )
    selected_rows = table.selection.rows
    if selected_rows:
        open_patient_chart(user, result.matches[selected_rows[0]].patient_id)

    by_id = {m.patient_id: m for m in result.matches}
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            "Patient", options=list(by_id), format_func=lambda pid: match_label(by_id[pid])
        )
        if st.button("Open chart", type="primary", icon=":material/folder_open:"):
            open_patient_chart(user, chosen)
