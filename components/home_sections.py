"""The sections of the home page: upcoming visits, new results, active medications."""

from typing import Any

import streamlit as st

from components.navigation import page
from components.record_tables import datetime_column, show_table
from components.result_table import render_result_table
from components.summary_sections import MEDICATION_CONFIG, medication_rows
from db.models import BookingStatus, VisitMode
from portal.services.records import NEW_RESULTS_DAYS, HomeOverview
from portal.services.scheduling.booking import VisitRow
from portal.services.scheduling.calendar import Entry
from portal.services.scheduling.visit_types import label
from portal.timefmt import naive_local


def _visit_row(entry: Entry) -> dict[str, Any]:
    if isinstance(entry, VisitRow):
        b = entry.booking
        return {
            "When": naive_local(b.start),
            "Visit": label(b.visit_type) + (" (video)" if b.mode == VisitMode.VIDEO else ""),
            "With": entry.practitioner_name,
            "Status": "Arrived" if b.status == BookingStatus.ARRIVED else "Booked",
        }
    return {
        "When": naive_local(entry.start),
        "Visit": entry.service_type or "Visit",
        "With": entry.practitioner_name,
        "Status": entry.status_words,
    }


def render_upcoming_visits(upcoming: list[Entry]) -> None:
    """The patient's upcoming visits from the one calendar (portal and EHR), soonest first."""
    st.subheader("Upcoming visits")
    rows = [_visit_row(entry) for entry in upcoming]
    show_table(
        rows,
        columns=["When", "Visit", "With", "Status"],
        empty="No upcoming visits.",
        key="home_visits",
        column_config={"When": datetime_column("When")},
    )
    if rows:
        st.page_link(page("appointments"), label="All appointments", icon=":material/event:")


def render_new_results(overview: HomeOverview) -> None:
    st.subheader("New results")
    if not overview.new_results:
        st.info(f"No new results in the last {NEW_RESULTS_DAYS} days.")
        return
    abnormal = overview.abnormal_result_count
    if abnormal:
        noun = "result is" if abnormal == 1 else "results are"
        st.warning(
            f"{abnormal:,} new {noun} outside the normal range. Your care team reviews every "
            "result and will contact you if anything needs to be done.",
            icon=":material/warning:",
        )
    st.caption(f"Lab results from the last {NEW_RESULTS_DAYS} days.")
    render_result_table(overview.new_results, key="home_results")
    st.page_link(page("results"), label="All test results", icon=":material/lab_profile:")


def render_active_medications(overview: HomeOverview) -> None:
    st.subheader("Active medications")
    show_table(
        medication_rows(overview.active_medications),
        columns=["Medication", "Instructions", "Prescribed", "Prescriber"],
        empty="No active medications.",
        key="home_medications",
        column_config=MEDICATION_CONFIG,
    )
