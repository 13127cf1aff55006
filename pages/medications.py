"""Active medications and refill requests."""

import streamlit as st

from components.current_user import current_user
from components.plain_text import md_literal
from components.portal_errors import show_error
from components.request_ui import acting_patient, flash, local_time, now, show_flash
from portal.errors import PortalError
from portal.services import profile_changes, refills
from portal.services.unit_of_work import session_scope


def render() -> None:
    user = current_user()
    patient = acting_patient(user)
    st.title("Medications and refills")
    show_flash()

    with session_scope() as session:
        meds = refills.active_medications(user, patient.id, session=session, now=now())
        history = refills.list_refills(user, patient.id, session=session, now=now())
        saved_pharmacy = profile_changes.profile(
            user, patient.id, session=session, now=now()
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
                st.info(f"Refill {label.lower()} since {local_time(row.open_refill.created_at)}.")
                continue
            with st.form(f"refill_{med.id}"):
                pharmacy = st.text_input(
                    "Pharmacy", value=saved_pharmacy or "", max_chars=200, key=f"pharmacy_{med.id}"
                )
                note = st.text_area("Note for the clinic (optional)", key=f"note_{med.id}")
                if st.form_submit_button("Request refill"):
                    try:
                        with session_scope() as session:
                            refills.request_refill(
                                user,
                                patient.id,
                                med.id,
                                pharmacy=pharmacy,
                                note=note,
                                session=session,
                                now=now(),
                            )
                    except PortalError as error:
                        show_error(error)
                    else:
                        flash("success", f"Refill requested for {med.display}.")
                        st.rerun()

    st.subheader("Refill requests")
    if not history:
        st.caption("No refill requests yet.")
    for row in history:
        with st.container(border=True):
            st.markdown(
                f"**{md_literal(row.medication.display)}** · {md_literal(row.status_label)}"
            )
            st.caption(
                f"Requested {local_time(row.refill.created_at)} · {md_literal(row.refill.pharmacy)}"
            )
            if row.refill.decision_reason:
                st.text(f"Reason: {row.refill.decision_reason}")
