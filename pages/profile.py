"""Contact details and preferences. Changes wait for staff, so the record stays verified."""

import streamlit as st

from components.actions import run_action, show_flash
from components.patient_context import record_page
from components.plain_text import md_literal
from portal.clock import utcnow
from portal.services import profile_changes
from portal.services.profile_changes import COMMUNICATION_CHOICES, FIELDS
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def render() -> None:
    user, patient = record_page("Profile")
    show_flash()

    with session_scope() as session:
        view = profile_changes.profile(user, patient.patient_id, session=session, now=utcnow())

    st.subheader("Details on record")
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
        if st.form_submit_button(md_literal(patient.acting("Send changes for review", "for"))):
            changes = {k: v for k, v in new_values.items() if k not in view.pending}
            run_action(
                lambda s: profile_changes.request_changes(
                    user, patient.patient_id, changes, session=s, now=utcnow(), proof=proof
                ),
                lambda created: (
                    "Sent for review: "
                    + ", ".join(FIELDS[c.field].label.lower() for c in created)
                    + "."
                ),
            )

    decided = [c for c in view.recent if c.status != "pending"]
    if decided:
        st.subheader("Recent decisions")
        for change in decided[:10]:
            st.text(
                f"{FIELDS[change.field].label} -> {change.new_value}: {change.status} "
                f"({format_datetime(change.decided_at)})"
                + (f". Reason: {change.decision_reason}" if change.decision_reason else "")
            )
