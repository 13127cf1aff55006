"""Home: what needs attention in the record the account is looking at."""

from datetime import datetime

import streamlit as st

from components.current_user import current_user
from components.home_sections import (
    render_active_medications,
    render_new_results,
    render_upcoming_visits,
)
from components.navigation import page
from components.notifications_panel import notifications_panel
from components.patient_context import active_patient_id
from components.portal_errors import errors_as_messages
from portal.clock import utcnow
from portal.services.preventive import CareStatus, preventive_care
from portal.services.records import home_overview
from portal.services.scheduling.calendar import patient_calendar
from portal.services.unit_of_work import session_scope
from portal.timefmt import to_local


def greeting(now: datetime) -> str:
    hour = to_local(now).hour
    if hour < 12:
        return "Good morning"
    return "Good afternoon" if hour < 18 else "Good evening"


def render() -> None:
    user = current_user()
    now = utcnow()
    st.title(greeting(now))
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()
    with errors_as_messages(), session_scope() as session:
        overview = home_overview(user, patient_id, session=session, now=now)
        visits = patient_calendar(user, patient_id, session=session, now=now)
        care_due = [
            item
            for item in preventive_care(user, patient_id, session=session, now=now)
            if item.status != CareStatus.UP_TO_DATE and not item.requested
        ]

    notifications_panel(user, patient_id)
    render_upcoming_visits(visits.upcoming)
    render_new_results(overview)
    if care_due:
        st.subheader("Care that is due")
        st.text(", ".join(f"{item.name} ({item.status_label.lower()})" for item in care_due))
        st.page_link(
            page("prevention"), label="Preventive care", icon=":material/health_and_safety:"
        )
    render_active_medications(overview)
