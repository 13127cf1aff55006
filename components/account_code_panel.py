"""Staff widget: issue a portal activation code (or a password-reset code) for one patient."""

import streamlit as st

from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from db.models import User
from portal.clock import utcnow
from portal.config import get_settings
from portal.services import account_codes
from portal.services.unit_of_work import session_scope


def account_code_panel(user: User, patient_id: int) -> None:
    """A button that issues the code; the code is shown once, to read out or print: it is never
    kept in session state, so the next click (or the next person at this PC) does not see it."""
    with session_scope() as session:
        purpose = account_codes.next_code_purpose(user, patient_id, session=session, now=utcnow())
    has_account = purpose == account_codes.RESET
    label = "Issue a password-reset code" if has_account else "Issue a portal activation code"
    if st.button(label, icon=":material/key:", key=f"issue_code_{patient_id}"):
        with errors_as_messages(), session_scope() as session:
            purpose, code = account_codes.issue_code(
                user, patient_id, session=session, now=utcnow()
            )
        hours = get_settings().account_code_hours
        st.success(
            f"Give this {md_literal(purpose)} code to the patient. It works once, for "
            f"{hours:g} hours, on the sign-in screen under “Activate my account or reset my "
            "password”."
        )
        st.code(code, language=None)
