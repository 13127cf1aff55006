"""Account security: password change and two-step sign-in (required for staff)."""

import streamlit as st

from components import session_keys as keys
from components.actions import run_action, show_flash
from components.current_user import current_user
from components.login import QR_ALT, change_password, qr_png, show_recovery_codes
from db.models import User
from portal.clock import utcnow
from portal.config import get_settings
from portal.services import mfa
from portal.services.access import is_staff

PROOF_LABEL = "Current password (or a code from your app)"


def _show_codes_once(codes: list[str]) -> None:
    """New recovery codes are shown once, after the rerun; an enrolment is then finished."""
    st.session_state.pop(keys.ACCOUNT_NEW_SECRET, None)
    st.session_state[keys.ACCOUNT_NEW_CODES] = codes


def render() -> None:
    user = current_user()
    st.title("Account security")

    show_flash()

    codes = st.session_state.pop(keys.ACCOUNT_NEW_CODES, None)
    if codes:
        show_recovery_codes(codes)

    if user.mfa_enabled_at is None:
        st.write(
            "Two-step sign-in asks for a code from an authenticator app on your phone after your "
            "password, so a stolen password alone cannot open your record."
        )
        secret = st.session_state.setdefault(keys.ACCOUNT_NEW_SECRET, mfa.new_secret())
        st.image(qr_png(mfa.provisioning_uri(user, secret)), width=220, alt=QR_ALT)
        st.caption("Cannot scan? Enter this key by hand:")
        st.code(secret, language=None)
        with st.form("enable_mfa"):
            code = st.text_input("Code from the app")
            if st.form_submit_button("Turn on two-step sign-in", type="primary"):
                run_action(
                    lambda s: mfa.enable(
                        s.get(User, user.id), secret, code, session=s, now=utcnow()
                    ),
                    None,
                    after=_show_codes_once,
                )
    else:
        st.success("Two-step sign-in is on.")
        with (
            st.expander("Make new recovery codes"),
            st.form("new_recovery_codes", clear_on_submit=True),
        ):
            st.caption("The old codes stop working. To confirm it is you:")
            proof = st.text_input(PROOF_LABEL, type="password", autocomplete="current-password")
            if st.form_submit_button("Make new recovery codes"):
                run_action(
                    lambda s: mfa.regenerate_recovery_codes(
                        s.get(User, user.id), proof=proof, session=s, now=utcnow()
                    ),
                    None,
                    after=_show_codes_once,
                )
        if not is_staff(user):
            with (
                st.expander("Turn off two-step sign-in"),
                st.form("mfa_off", clear_on_submit=True),
            ):
                st.caption(
                    "Without it, your password alone opens your record. To confirm it is you:"
                )
                proof = st.text_input(PROOF_LABEL, type="password", autocomplete="current-password")
                if st.form_submit_button("Turn off two-step sign-in"):
                    run_action(
                        lambda s: mfa.disable(
                            s.get(User, user.id), proof=proof, session=s, now=utcnow()
                        ),
                        "Two-step sign-in is off.",
                    )

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
            run_action(
                lambda s: change_password(
                    user, current=current, new=new, confirm=confirm, session=s
                ),
                "Your password is changed. Every other browser or device was signed out.",
            )
