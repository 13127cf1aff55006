"""Contact details and preferences. Changes wait for staff, so the record stays verified."""

import streamlit as st

from components.current_user import current_user
from components.plain_text import md_literal
from components.portal_errors import show_error
from components.request_ui import acting_patient, flash, local_time, now, show_flash
from portal.errors import PortalError
from portal.services import profile_changes
from portal.services.profile_changes import COMMUNICATION_CHOICES, FIELDS
from portal.services.unit_of_work import session_scope


def render() -> None:
    user = current_user()
    patient = acting_patient(user)
    st.title("Profile")
    show_flash()

    with session_scope() as session:
        view = profile_changes.profile(user, patient.id, session=session, now=now())

    st.subheader("Your details")
    for name, spec in FIELDS.items():
        value = view.values.get(name) or "(not given)"
        pending = view.pending.get(name)
        line = f"{spec.label}: {value}"
        if pending:
            line += f"  (change to '{pending.new_value}' pending review)"
        st.text(line)

    st.subheader("Request a change")
    st.caption("The clinic checks each change before it is applied; you will be notified.")
    with st.form("profile_change"):
        new_values = {}
        for name, spec in FIELDS.items():
            current = view.values.get(name) or ""
            if name == "communication_preference":
                options = ["", *COMMUNICATION_CHOICES]
                new_values[name] = st.selectbox(
                    md_literal(spec.label),
                    options,
                    index=options.index(current) if current in options else 0,
                    key=f"profile_{name}",
                    disabled=name in view.pending,
                )
            else:
                new_values[name] = st.text_input(
                    md_literal(spec.label),
                    value=current,
                    max_chars=spec.max_length,
                    key=f"profile_{name}",
                    disabled=name in view.pending,
                )
        proof = st.text_input(
            "Your current password (needed to change the phone or email)",
            type="password",
            autocomplete="current-password",
            key="profile_proof",
        )
        if st.form_submit_button("Send changes for review"):
            changes = {k: v for k, v in new_values.items() if k not in view.pending}
            try:
                with session_scope() as session:
                    created = profile_changes.request_changes(
                        user, patient.id, changes, session=session, now=now(), proof=proof
                    )
            except PortalError as error:
                show_error(error)
            else:
                labels = ", ".join(FIELDS[c.field].label.lower() for c in created)
                flash("success", f"Sent for review: {labels}.")
                st.rerun()

    decided = [c for c in view.recent if c.status != "pending"]
    if decided:
        st.subheader("Recent decisions")
        for change in decided[:10]:
            st.text(
                f"{FIELDS[change.field].label} -> {change.new_value}: {change.status} "
                f"({local_time(change.decided_at)})"
                + (f". Reason: {change.decision_reason}" if change.decision_reason else "")
            )
