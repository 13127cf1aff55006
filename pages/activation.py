"""Portal activation (staff): issue an activation or reset code for the chart that is open."""

import streamlit as st

from components.account_code_panel import account_code_panel
from components.current_user import current_user
from components.patient_context import active_patient_id
from components.portal_errors import errors_as_messages
from db.engine import session_scope
from portal.services.access import require_staff


def render() -> None:
    user = current_user()
    st.title("Portal activation")
    with errors_as_messages(), session_scope() as session:
        require_staff(user, session=session, what="page: portal activation")
    st.caption(
        "Patients activate their portal account with a one-time code. A new code replaces any "
        "earlier one. For a patient who already has an account, the code resets the password."
    )
    patient_id = active_patient_id(user)
    if patient_id is not None:
        account_code_panel(user, patient_id)
