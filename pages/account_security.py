"""Account security: password change and two-step sign-in (required for staff)."""

from datetime import UTC, datetime

import streamlit as st

from components.current_user import current_user
from components.login import change_password, qr_png, show_recovery_codes
from components.portal_errors import errors_as_messages
from db.models import STAFF_ROLES, User
from portal.config import get_settings
from portal.services import mfa
from portal.services.unit_of_work import session_scope

_NEW_SECRET = "account_security_pending_key"  # noqa: S105 - a session-state key name
_NEW_CODES = "account_security_new_codes"
_PASSWORD_CHANGED = "account_security_password_changed"  # noqa: S105 - a session-state key name
_MFA_OFF = "account_security_mfa_off"
PROOF_LABEL = "Current password (or a code from your app)"


def render() -> None:
    user = current_user()
    st.title("Account security")

    if st.session_state.pop(_PASSWORD_CHANGED, False):
        st.success("Your password is changed. Every other browser or device was signed out.")

    if st.session_state.pop(_MFA_OFF, False):
        st.success("Two-step sign-in is off.")

    codes = st.session_state.pop(_NEW_CODES, None)
    if codes:
        show_recovery_codes(codes)

    if user.mfa_enabled_at is None:
        st.write(
            "Two-step sign-in asks for a code from an authenticator app on your phone after your "
            "password, so a stolen password alone cannot open your record."
        )
        secret = st.session_state.setdefault(_NEW_SECRET, mfa.new_secret())
        st.image(qr_png(mfa.provisioning_uri(user, secret)), width=220)
        st.caption("Cannot scan? Enter this key by hand:")
        st.code(secret, language=None)
        with st.form("enable_mfa"):
            code = st.text_input("Code from the app")
            if st.form_submit_button("Turn on two-step sign-in", type="primary"):
                with errors_as_messages(), session_scope() as session:
                    fresh = session.get(User, user.id)
                    new_codes = mfa.enable(
                        fresh, secret, code, session=session, now=datetime.now(UTC)
                    )
                st.session_state.pop(_NEW_SECRET, None)
                st.session_state[_NEW_CODES] = new_codes
                st.rerun()
    else:
        st.success("Two-step sign-in is on.")
        with (
            st.expander("Make new recovery codes"),
            st.form("new_recovery_codes", clear_on_submit=True),
        ):
            st.caption("The old codes stop working. To confirm it is you:")
            proof = st.text_input(PROOF_LABEL, type="password", autocomplete="current-password")
            if st.form_submit_button("Make new recovery codes"):
                with errors_as_messages(), session_scope() as session:
                    new_codes = mfa.regenerate_recovery_codes(
                        session.get(User, user.id),
                        proof=proof,
                        session=session,
                        now=datetime.now(UTC),
                    )
                st.session_state[_NEW_CODES] = new_codes
                st.rerun()
        if user.role not in STAFF_ROLES:
            with (
                st.expander("Turn off two-step sign-in"),
                st.form("mfa_off", clear_on_submit=True),
            ):
                st.caption(
                    "Without it, your password alone opens your record. To confirm it is you:"
                )
                proof = st.text_input(PROOF_LABEL, type="password", autocomplete="current-password")
                if st.form_submit_button("Turn off two-step sign-in"):
                    with errors_as_messages(), session_scope() as session:
                        mfa.disable(
                            session.get(User, user.id),
                            proof=proof,
                            session=session,
                            now=datetime.now(UTC),
                        )
                    st.session_state[_MFA_OFF] = True
                    st.rerun()

    st.subheader("Change password")
    st.caption(
        f"Use at least {get_settings().password_min_length} characters; a short sentence is easy "
        "to "
        "remember. Changing your password signs you out on every other browser or device."
    )
    with st.form("change_password", clear_on_submit=True):
        current = st.text_input(
            "Current password", type="password", autocomplete="current-password"
        )
        new = st.text_input("New password", type="password", autocomplete="new-password")
        confirm = st.text_input("New password again", type="password", autocomplete="new-password")
        if st.form_submit_button("Change password"):
            with errors_as_messages():
                change_password(user, current=current, new=new, confirm=confirm)
            st.session_state[_PASSWORD_CHANGED] = True
            st.rerun()
