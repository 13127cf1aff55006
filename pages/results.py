"""Test results: lab results and vital signs, each with latest values, a trend and history."""

import streamlit as st

from components.current_user import current_user
from components.patient_context import active_patient_id
from components.results_view import render_results_tab
from db.models import ObservationCategory

LABORATORY = ObservationCategory.LABORATORY.value
VITAL_SIGNS = ObservationCategory.VITAL_SIGNS.value
VIEWS = {LABORATORY: "Lab results", VITAL_SIGNS: "Vitals"}
EMPTY = {LABORATORY: "No lab results yet.", VITAL_SIGNS: "No vital signs recorded yet."}
VIEW_KEY = "results_view"


def render() -> None:
    user = current_user()
    st.title("Test results")
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()

    # One view at a time: st.tabs would run (read, audit, chart) both views on every click.
    category = st.segmented_control(
        "Show",
        list(VIEWS),
        default=LABORATORY,
        required=True,
        format_func=VIEWS.__getitem__,
        key=VIEW_KEY,
        label_visibility="collapsed",
    )
    category = category or LABORATORY
    render_results_tab(user, patient_id, category, empty=EMPTY[category])
