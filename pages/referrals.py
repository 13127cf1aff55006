"""Referrals (patients and proxies): referrals the clinic has made (from the EHR), with
specialty, status and dates, and a form to ask for one (it goes to the staff triage inbox)."""

import streamlit as st

from components.actions import run_action, show_flash
from components.patient_context import record_page
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from components.record_tables import datetime_column, show_table
from portal.clock import utcnow
from portal.services import referrals
from portal.services.unit_of_work import session_scope
from portal.timefmt import naive_local


def render() -> None:
    user, person = record_page("Referrals")
    patient_id = person.patient_id
    show_flash()

    with errors_as_messages(), session_scope() as session:
        overview = referrals.list_referrals(user, patient_id, session=session, now=utcnow())

    st.subheader("Your referrals")
    show_table(
        [
            {
                "Specialty": r.specialty,
                "Status": r.status,
                "Referred on": naive_local(r.requested_on),
                "Appointment": naive_local(r.appointment),
                "To": r.to,
                "Reason": r.reason,
                "Referred by": r.requested_by,
            }
            for r in overview.referrals
        ],
        columns=[
            "Specialty",
            "Status",
            "Referred on",
            "Appointment",
            "To",
            "Reason",
            "Referred by",
        ],
        empty="No referrals yet.",
        key="referrals_table",
        column_config={
            "Referred on": datetime_column("Referred on"),
            "Appointment": datetime_column("Appointment"),
        },
    )

    st.subheader("Your referral requests")
    show_table(
        [
            {
                "Specialty": a.specialty,
                "Reason": a.reason,
                "Preferred provider": a.preferred_provider,
                "Status": a.status_words,
                "Clinic's answer": a.decision_reason,
                "Sent": naive_local(a.created_at),
            }
            for a in overview.requests
        ],
        columns=["Specialty", "Reason", "Preferred provider", "Status", "Clinic's answer", "Sent"],
        empty="You have not asked for a referral in the portal.",
        key="referral_requests_table",
        column_config={"Sent": datetime_column("Sent")},
    )

    with st.form("referral_request_form", clear_on_submit=True):
        st.subheader("Ask for a referral")
        st.caption("Your care team reviews the request and contacts you.")
        specialty = st.selectbox(
            "Specialty", referrals.SPECIALTIES, index=None, key="ref_specialty"
        )
        reason = st.text_area("Why do you need it?", max_chars=2000, key="ref_reason")
        provider = st.text_input(
            "Preferred specialist or clinic (optional)", max_chars=200, key="ref_provider"
        )
        if st.form_submit_button(md_literal(person.acting("Send request"))):
            run_action(
                lambda s: referrals.request_referral(
                    user,
                    session=s,
                    now=utcnow(),
                    patient_id=patient_id,
                    specialty=specialty or "",
                    reason=reason,
                    preferred_provider=provider,
                ),
                "Your referral request was sent to the clinic.",
            )
