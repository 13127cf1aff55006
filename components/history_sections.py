"""Health summary sections for the rest of the EHR record: procedures and surgeries, devices,
imaging studies, and social history / questionnaires / exam findings. Plain-text tables only."""

from typing import Any

import streamlit as st

from components.plain_text import md_literal
from components.record_tables import date_column, show_table, words
from portal.services.care_record import (
    DeviceRecord,
    HealthHistory,
    ImagingRecord,
    ObservationEntry,
    ProcedureRecord,
)
from portal.timefmt import naive_local


def _procedure_rows(procedures: list[ProcedureRecord]) -> list[dict[str, Any]]:
    return [
        {
            "Date": naive_local(p.performed),
            "Procedure": p.name,
            "Status": words(p.status),
            "Reason": p.reason,
            "Where": p.place,
            "By": p.performer,
        }
        for p in procedures
    ]


PROCEDURE_COLUMNS = ["Date", "Procedure", "Status", "Reason", "Where", "By"]


def render_procedures(history: HealthHistory) -> None:
    st.markdown("**Surgical history**")
    show_table(
        _procedure_rows(history.surgical_history),
        columns=PROCEDURE_COLUMNS,
        empty="No operations recorded.",
        key="summary_surgeries",
        column_config={"Date": date_column("Date")},
    )
    st.markdown("**All procedures**")
    show_table(
        _procedure_rows(history.procedures),
        columns=PROCEDURE_COLUMNS,
        empty="No procedures recorded.",
        key="summary_procedures",
        column_config={"Date": date_column("Date")},
    )


def render_devices(devices: list[DeviceRecord]) -> None:
    show_table(
        [
            {
                "Device": d.name,
                "Status": words(d.status) if d.status else "",
                "Maker": d.manufacturer,
                "Model": d.model,
                "Device identifier (UDI)": d.udi,
                "Use by": naive_local(d.expires),
            }
            for d in devices
        ],
        columns=["Device", "Status", "Maker", "Model", "Device identifier (UDI)", "Use by"],
        empty="No implants or home devices recorded.",
        key="summary_devices",
        column_config={"Use by": date_column("Use by")},
    )


def render_imaging(studies: list[ImagingRecord]) -> None:
    show_table(
        [
            {
                "Date": naive_local(s.started),
                "Type": s.modality,
                "Study": s.description,
                "Body area": s.body_site,
                "Images": s.images,
            }
            for s in studies
        ],
        columns=["Date", "Type", "Study", "Body area", "Images"],
        empty="No imaging studies recorded.",
        key="summary_imaging",
        column_config={"Date": date_column("Date")},
    )


def _entries(entries: list[ObservationEntry], key: str, empty: str) -> None:
    show_table(
        [
            {
                "Date": naive_local(e.effective_at),
                "What": e.name,
                "Answer or value": f"{e.value} {e.unit}".strip(),
            }
            for e in entries
        ],
        columns=["Date", "What", "Answer or value"],
        empty=empty,
        key=key,
        column_config={"Date": date_column("Date")},
    )


def render_observation_sections(sections: dict[str, list[ObservationEntry]]) -> None:
    for index, (title, entries) in enumerate(sections.items()):
        st.markdown(f"**{md_literal(title)}**")
        _entries(entries, key=f"summary_obs_section_{index}", empty=f"No {title.lower()} recorded.")
