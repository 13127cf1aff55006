"""Pre-visit check-in: the patient's form (appointments page) and the answers staff read (schedule).

Record text (medication and allergy names, addresses) and the patient's own answers are EHR or
user text, so they are drawn with st.text, never as markdown.
"""

from collections.abc import Callable

import streamlit as st

from components.plain_text import md_literal
from db.models import CheckIn, CheckInAnswer
from portal.services.records import HealthSummary
from portal.services.scheduling.checkin import questions_for, score_note


def _facts(summary: HealthSummary) -> None:
    d = summary.demographics
    st.markdown("**Your contact details**")
    contact = [
        f"{label}: {value}"
        for label, value in (("Phone", d.phone), ("Email", d.email), ("Address", d.address))
        if value
    ]
    st.text("\n".join(contact) or "No contact details on file.")
    st.markdown("**Your medications**")
    st.text(
        "\n".join(
            f"{m.name} — {m.dosage}" if m.dosage else m.name for m in summary.active_medications
        )
        or "No active medications on file."
    )
    st.markdown("**Your allergies**")
    st.text("\n".join(a.name for a in summary.allergies) or "No allergies on file.")


def checkin_form(
    booking_id: int, visit_type: str, summary: HealthSummary, on_submit: Callable[..., None]
) -> None:
    """The check-in form for one visit; ``on_submit(answers, contact, medications, allergies)``."""
    with st.form(f"checkin_form_{booking_id}"):
        st.caption(
            "Please check what we have on file and answer a few questions before your visit. "
            "If something is wrong, leave the box unticked and tell us below, or update your "
            "contact details on the Profile page."
        )
        _facts(summary)
        contact = st.checkbox("My contact details are correct", key=f"checkin_contact_{booking_id}")
        medications = st.checkbox(
            "My medication list is correct", key=f"checkin_medications_{booking_id}"
        )
        allergies = st.checkbox("My allergy list is correct", key=f"checkin_allergies_{booking_id}")
        answers = {}
        questions = questions_for(visit_type)
        if any(q.choices for q in questions):
            st.markdown("**Over the last 2 weeks, how often have you been bothered by:**")
        for q in questions:
            key = f"checkin_{q.code}_{booking_id}"
            if q.choices:
                answers[q.code] = st.radio(
                    md_literal(q.text), q.choices, index=None, format_func=md_literal, key=key
                )
            else:
                answers[q.code] = st.text_area(md_literal(q.text), max_chars=500, key=key)
        if st.form_submit_button("Send check-in", type="primary"):
            on_submit(answers, contact, medications, allergies)


def checkin_answers(checkin: CheckIn, answers: list[CheckInAnswer]) -> None:
    """What the patient confirmed and answered, for the clinician."""
    confirmed = {
        "Contact details": checkin.contact_confirmed,
        "Medications": checkin.medications_confirmed,
        "Allergies": checkin.allergies_confirmed,
    }
    st.text(
        " · ".join(
            f"{what}: {'confirmed' if ok else 'NOT confirmed'}" for what, ok in confirmed.items()
        )
    )
    if note := score_note(checkin):
        (st.warning if "positive" in note else st.caption)(note)
    for answer in answers:
        st.text(f"{answer.question_text}: {answer.answer_text or '(no answer)'}")
