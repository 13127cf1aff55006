"""Health summary: demographics, problems, medications, allergies, immunizations, procedures and
surgeries, devices, imaging, social history and more, visits, documents, and the care plan of the
record the account is looking at."""

import streamlit as st

from components import history_sections as history_sections
from components import summary_sections as sections
from components.care_plan_view import render_care_plan
from components.current_user import current_user
from components.patient_context import active_patient_id
from components.portal_errors import errors_as_messages
from portal.clock import utcnow
from portal.services.care_record import care_plan, health_history
from portal.services.records import health_summary
from portal.services.unit_of_work import session_scope


def render() -> None:
    user = current_user()
    st.title("Health summary")
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()
    with errors_as_messages(), session_scope() as session:
        summary = health_summary(user, patient_id, session=session)
        history = health_history(user, patient_id, session=session)
        plan = care_plan(user, patient_id, session=session, now=utcnow())

    tabs = st.tabs(
        [
            "About",
            "Problems",
            "Medications",
            "Allergies",
            "Immunizations",
            "Procedures",
            "Devices",
            "Imaging",
            "Social history and more",
            "Visits",
            "Documents",
            "Care plan",
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
        history_sections.render_procedures(history)
    with tabs[6]:
        history_sections.render_devices(history.devices)
    with tabs[7]:
        history_sections.render_imaging(history.imaging)
    with tabs[8]:
        history_sections.render_observation_sections(history.sections)
    with tabs[9]:
        sections.render_visits(summary.visits)
    with tabs[10]:
        sections.render_documents(summary.documents)
    with tabs[11]:
        render_care_plan(plan)
