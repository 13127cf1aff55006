"""Active medications and refill requests."""

import streamlit as st

from components.actions import run_action, show_flash
from components.patient_context import record_page
from components.plain_text import md_literal
from portal.clock import utcnow
from portal.services import profile_changes, refills
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def render() -> None:
    user, patient = record_page("Medications and refills")
    show_flash()

    with session_scope() as session:
        meds = refills.active_medications(user, patient.patient_id, session=session, now=utcnow())
        history = refills.list_refills(user, patient.patient_id, session=session, now=utcnow())
        saved_pharmacy = profile_changes.profile(
            user, patient.patient_id, session=session, now=utcnow()
        ).values.get("preferred_pharmacy")

    st.subheader("Active medications")
    if not meds:
        st.info("There are no active medications on your record.")
    for row in meds:
        med = row.medication
        with st.container(border=True):
            st.markdown(
                f"**{md_literal(med.display)}**" if med.display else "**(unnamed medication)**"
            )
            if med.dosage_text:
                st.text(med.dosage_text)
            if row.open_refill is not None:
                label = refills.STATUS_LABELS[row.open_refill.status]
                since = format_datetime(row.open_refill.created_at)
                st.info(f"Refill {label.lower()} since {since}.")
                continue
            with st.form(f"refill_{med.id}"):
                pharmacy = st.text_input(
                    "Pharmacy", value=saved_pharmacy or "", max_chars=200, key=f"pharmacy_{med.id}"
                )
                note = st.text_area("Note for the clinic (optional)", key=f"note_{med.id}")
                if st.form_submit_button(md_literal(patient.acting("Request refill"))):
                    run_action(
                        lambda s, med=med, pharmacy=pharmacy, note=note: refills.request_refill(
                            user,
                            patient.patient_id,
                            med.id,
                            pharmacy=pharmacy,
                            note=note,
                            session=s,
                            now=utcnow(),
                        ),
                        f"Refill requested for {med.display}.",
                    )

    st.subheader("Refill requests")
    if not history:
        st.caption("No refill requests yet.")
    for asked in history:
        with st.container(border=True):
            st.markdown(
                f"**{md_literal(asked.medication.display)}** · {md_literal(asked.status_label)}"
            )
            st.caption(
                f"Requested {format_datetime(asked.refill.created_at)} · "
                f"{md_literal(asked.refill.pharmacy)}"
            )
            if asked.refill.decision_reason:
                st.text(f"Reason: {asked.refill.decision_reason}")
