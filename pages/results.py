"""Test results: lab results and vital signs, each with latest values, a trend and history."""

import streamlit as st

from components.current_user import current_user
from components.patient_context import active_patient_id
from components.results_view import render_results_tab
from db.models import ObservationCategory

LABORATORY = ObservationCategory.LABORATORY.value
VITAL_SIGNS = ObservationCategory.VITAL_SIGNS.value


def render() -> None:
    user = current_user()
    st.title("Test results")
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()

    labs_tab, vitals_tab = st.tabs(["Lab results", "Vitals"])
    with labs_tab:
        render_results_tab(user, patient_id, LABORATORY, empty="No lab results yet.")
    with vitals_tab:
        render_results_tab(
            user,
            patient_id,
            ObservationCategory.VITAL_SIGNS.value,
            empty="No vital signs recorded yet.",
        )
