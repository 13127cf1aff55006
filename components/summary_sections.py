"""The sections of the health summary, one function each."""

from typing import Any

import streamlit as st

from components.document_viewer import document_viewer
from components.record_tables import date_column, datetime_column, show_table, words
from portal.services.education import medlineplus_url
from portal.services.records import (
    Allergy,
    Demographics,
    DocumentInfo,
    ImmunizationRecord,
    Medication,
    PastVisit,
    Problem,
)
from portal.timefmt import format_date, naive_local


def render_demographics(d: Demographics) -> None:
    details = [
        ("Name", d.name),
        ("Date of birth", format_date(d.birth_date)),
        ("Sex", words(d.sex) if d.sex else ""),
        ("MRN", d.mrn),
        ("Phone", d.phone),
        ("Email", d.email),
        ("Address", d.address),
        ("Preferred language", d.language),
        ("Primary care provider", d.primary_practitioner),
    ]
    if d.deceased:
        details.append(("Status", "Deceased"))
    show_table(
        [{"Detail": label, "Value": value} for label, value in details if value],
        columns=["Detail", "Value"],
        empty="No personal details recorded.",
        key="summary_demographics",
    )


# Education links open MedlinePlus (US National Library of Medicine) for the entry's code.
LEARN_MORE = st.column_config.LinkColumn(
    "Learn more", display_text="MedlinePlus", help="Plain-language information from MedlinePlus."
)


def render_problems(problems: list[Problem]) -> None:
    show_table(
        [
            {
                "Problem": p.name,
                "Status": words(p.status) if p.status else "",
                "Since": p.onset_date,
                "Resolved": p.abatement_date,
                "Learn more": medlineplus_url(p.code_system, p.code, p.name),
            }
            for p in problems
        ],
        columns=["Problem", "Status", "Since", "Resolved", "Learn more"],
        empty="No problems recorded.",
        key="summary_problems",
        column_config={
            "Since": date_column("Since"),
            "Resolved": date_column("Resolved"),
            "Learn more": LEARN_MORE,
        },
    )


def medication_rows(medications: list[Medication]) -> list[dict[str, Any]]:
    return [
        {
            "Medication": m.name,
            "Instructions": m.dosage,
            "Status": words(m.status),
            "Prescribed": naive_local(m.authored_on),
            "Prescriber": m.prescriber_name,
            "Learn more": medlineplus_url(m.code_system, m.code, m.name),
        }
        for m in medications
    ]


MEDICATION_COLUMNS = [
    "Medication",
    "Instructions",
    "Status",
    "Prescribed",
    "Prescriber",
    "Learn more",
]
MEDICATION_CONFIG = {"Prescribed": date_column("Prescribed"), "Learn more": LEARN_MORE}


def render_medications(active: list[Medication], past: list[Medication]) -> None:
    st.markdown("**Current**")
    show_table(
        medication_rows(active),
        columns=MEDICATION_COLUMNS,
        empty="No current medications.",
        key="summary_medications_active",
        column_config=MEDICATION_CONFIG,
    )
    st.markdown("**Past**")
    show_table(
        medication_rows(past),
        columns=MEDICATION_COLUMNS,
        empty="No past medications.",
        key="summary_medications_past",
        column_config=MEDICATION_CONFIG,
    )


def render_allergies(allergies: list[Allergy]) -> None:
    show_table(
        [
            {
                "Allergy": a.name,
                "Reaction": a.reaction,
                "Severity": words(a.criticality) if a.criticality else "",
                "Status": words(a.status) if a.status else "",
                "Recorded": naive_local(a.recorded_date),
            }
            for a in allergies
        ],
        columns=["Allergy", "Reaction", "Severity", "Status", "Recorded"],
        empty="No known allergies.",
        key="summary_allergies",
        column_config={"Recorded": date_column("Recorded")},
    )


def render_immunizations(immunizations: list[ImmunizationRecord]) -> None:
    show_table(
        [
            {"Vaccine": i.name, "Date": naive_local(i.occurrence), "Status": words(i.status)}
            for i in immunizations
        ],
        columns=["Vaccine", "Date", "Status"],
        empty="No immunizations recorded.",
        key="summary_immunizations",
        column_config={"Date": date_column("Date")},
    )


def render_visits(visits: list[PastVisit]) -> None:
    show_table(
        [
            {
                "Date": naive_local(v.start),
                "Visit": v.visit_type,
                "Reason": v.reason,
                "Seen by": v.practitioner_name,
                "Where": v.place,
                "Status": words(v.status),
            }
            for v in visits
        ],
        columns=["Date", "Visit", "Reason", "Seen by", "Where", "Status"],
        empty="No visits recorded.",
        key="summary_visits",
        column_config={"Date": datetime_column("Date")},
    )


def render_documents(documents: list[DocumentInfo]) -> None:
    show_table(
        [
            {
                "Date": naive_local(d.date),
                "Title": d.title,
                "Type": d.document_type,
                "Description": d.description,
            }
            for d in documents
        ],
        columns=["Date", "Title", "Type", "Description"],
        empty="No documents yet.",
        key="summary_documents",
        column_config={"Date": date_column("Date")},
    )
    document_viewer(documents)
