"""Health summary: demographics, problems, medications, allergies, immunizations, visits,
documents of the record the account is looking at."""

import streamlit as st

from components import summary_sections as sections
from components.current_user import current_user
from components.patient_context import active_patient_id
from components.portal_errors import errors_as_messages
from db.engine import session_scope
from portal.services.records import health_summary


def render() -> None:
    user = current_user()
    st.title("Health summary")
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()
    with errors_as_messages(), session_scope() as session:
        summary = health_summary(user, patient_id, session=session)

    tabs = st.tabs(
        [
            "About",
            "Problems",
            "Medications",
            "Allergies",
            "Immunizations",
            "Visits",
            "Documents",
        ]
    )
    with tabs[0]:
        sections.render_demographics(summary.demographics)
    with tabs[1]:
        sections.render_problems(summary.problems)
    with tabs[2]:
        sections.render_medications(summary.active_medications, summary.past_medications)
    with tabs[3]:
        sections.render_allergies(summary.allergies)
    with tabs[4]:
        sections.render_immunizations(summary.immunizations)
    with tabs[5]:
        sections.render_visits(summary.visits)
    with tabs[6]:
        sections.render_documents(summary.documents)
