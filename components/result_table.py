"""Results as a table: value, unit, reference range, flag and date, in clinic time."""

import pandas as pd
import streamlit as st

from portal.services.education import lab_test_url
from portal.services.results import ResultRow
from portal.timefmt import naive_local

COLUMNS = ["Test", "Result", "Unit", "Normal range", "Flag", "Date", "Learn more"]


def results_frame(rows: list[ResultRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Test": r.name,
                "Result": r.value_text,
                "Unit": r.unit,
                "Normal range": r.reference_range,
                # A word plus a sign, so the flag does not rely on colour alone.
                "Flag": f"⚠ {r.flag}" if r.flag else "",
                "Date": naive_local(r.effective_at),
                "Learn more": lab_test_url(r.code, r.name),
            }
            for r in rows
        ],
        columns=COLUMNS,
    )


def render_result_table(rows: list[ResultRow], *, key: str, with_time: bool = False) -> None:
    """One st.dataframe of results; cells are plain text, never markdown or HTML."""
    st.dataframe(
        results_frame(rows),
        key=key,
        hide_index=True,
        width="stretch",
        column_config={
            "Test": st.column_config.TextColumn("Test", width="medium"),
            "Normal range": st.column_config.TextColumn(
                "Normal range", help="The range the lab considers normal."
            ),
            "Flag": st.column_config.TextColumn(
                "Flag", help="Outside the normal range, as flagged by the lab or by the range."
            ),
            "Date": st.column_config.DatetimeColumn(
                "Date", format="D MMM YYYY, h:mm A" if with_time else "D MMM YYYY"
            ),
            "Learn more": st.column_config.LinkColumn(
                "Learn more",
                display_text="MedlinePlus",
                help="What this test is, from MedlinePlus (US National Library of Medicine).",
            ),
        },
    )
