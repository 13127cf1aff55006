"""The login gate: the sign-in screen, the browser cookie and the session it names.

The steps (password, MFA code, enrolment, recovery codes, activation) are decided by
portal/signin_flow.py; this module draws them and keeps what they decide (session state, the
cookie). The password form itself is components/password_form.py.

The browser cookie carries only a signed random session token; the database says whether that
session is still alive (idle time-out, absolute lifetime, logout, password change). The role and
the patient link always come from the database.
"""

import io
from datetime import datetime, timedelta

import segno
import streamlit as st

from components import browser_cookie
from components import session_keys as keys
from components.current_user import end_browser_session, forget_everything, user_for_token
from components.navigation import hide_navigation
from components.password_form import password_form
from db.models import User
from portal import signin_flow
from portal.clock import utcnow
from portal.config import get_settings
from portal.services import mfa, sessions
from portal.services import users as users_service
from portal.services.rows import get_or_not_found
from portal.services.unit_of_work import Session, session_scope


def cookie_key() -> str:
    """The cookie signing key: COOKIE_KEY, or a random one kept in the state folder (not in git)."""
    settings = get_settings()
    if settings.cookie_key:
        return sessions.check_cookie_key(settings.cookie_key)
    # Imported here: the secrets store belongs to the demo/setup module and is optional in tests.
    from portal.secrets_store import get_or_create_secret

    secret = get_or_create_secret("cookie_key", state_dir=settings.state_dir)
    return sessions.check_cookie_key(secret)


def sent_cookie() -> str | None:
    """The login cookie the browser sent when this websocket session opened."""
    return st.context.cookies.get(get_settings().cookie_name)


def _session_user(now: datetime) -> User | None:
    token = st.session_state.get(keys.AUTH_TOKEN)
    from_cookie = False
    if token is None and not st.session_state.get(keys.COOKIE_CHECKED):
        # Cookies arrive once, with the websocket; after that only session state counts.
        st.session_state[keys.COOKIE_CHECKED] = True
        raw = sent_cookie()
        token = sessions.decode_cookie(raw, key=cookie_key())
        from_cookie = True
        if raw and token is None:
            st.session_state[keys.COOKIE_TO_DELETE] = True
    if token is None:
        return None
    try:
        user = user_for_token(token, now=now)
    except sessions.SessionEnded as ended:
        # An old cookie from an earlier visit ends quietly; a session that ends under the user's
        # eyes (time-out, sign-out elsewhere) says why.
        end_browser_session(ended)
        if from_cookie and ended.reason != "idle":
            st.session_state.pop(keys.LOGIN_NOTICE, None)
        return None
    st.session_state[keys.AUTH_TOKEN] = token
    return user


def _sync_cookie() -> None:
    """Write or delete the browser cookie when a sign-in step asked (components/browser_cookie)."""
    # Always one slot, used or not: the screen below keeps the same element positions whether or
    # not a script is drawn, so a rerun never shows a stale copy of it (two forms at once).
    with st.container():
        to_set = st.session_state.pop(keys.COOKIE_TO_SET, None)
        to_delete = st.session_state.pop(keys.COOKIE_TO_DELETE, False)
        name = get_settings().cookie_name
        if to_set:
            browser_cookie.write(
                name, to_set, expires=sessions.cookie_expires(to_set, key=cookie_key())
            )
        elif to_delete:
            browser_cookie.delete(name)


def _keep_session(token: str, now: datetime) -> None:
    st.session_state[keys.AUTH_TOKEN] = token
    st.session_state[keys.COOKIE_TO_SET] = sessions.encode_cookie(token, key=cookie_key(), now=now)


def _apply(step: signin_flow.Step, now: datetime) -> None:
    """Keep what a sign-in step decided: a new session, the step that waits, what to say."""
    if step.token is not None:
        # Whatever the tab held before (the last person's screens, a half-done sign-in) is gone.
        forget_everything()
        st.session_state.pop(keys.LOGIN_NOTICE, None)
        _keep_session(step.token, now)
        return
    if step.pending is None:
        st.session_state.pop(keys.LOGIN_PENDING, None)
    else:
        st.session_state[keys.LOGIN_PENDING] = step.pending
    if step.error is not None:
        st.session_state[keys.LOGIN_ERROR] = step.error


def _password_step(now: datetime) -> None:
    step = password_form(now)
    if step is None:
        return
    st.session_state.pop(keys.LOGIN_NOTICE, None)
    _apply(step, now)
    st.rerun()


def change_password(user: User, *, current: str, new: str, confirm: str, session: Session) -> None:
    """Change the signed-in user's password: this browser gets a fresh session, all others end.

    Raises a PortalError with a plain message (wrong current password, policy, paused account).
    """
    now = utcnow()
    account = get_or_not_found(session, User, user.id, "We could not find your account.")
    users_service.change_password(
        account, current=current, new=new, confirm=confirm, session=session, now=now
    )
    token = sessions.renew(st.session_state.get(keys.AUTH_TOKEN), account, session=session, now=now)
    _keep_session(token, now)


# --- callbacks: run before the script, so the page drawn next already reflects the result ------


def _pending() -> signin_flow.Pending | None:
    return st.session_state.get(keys.LOGIN_PENDING)


def _on_mfa_code() -> None:
    code = st.session_state.get(keys.LOGIN_MFA_CODE, "")
    st.session_state[keys.LOGIN_MFA_CODE] = ""
    now = utcnow()
    with session_scope() as db:
        _apply(signin_flow.submit_code(_pending(), code, session=db, now=now), now)


def _on_enrol() -> None:
    code = st.session_state.get(keys.LOGIN_ENROL_CODE, "")
    now = utcnow()
    with session_scope() as db:
        _apply(signin_flow.submit_enrolment(_pending(), code, session=db, now=now), now)


def _on_codes_saved() -> None:
    now = utcnow()
    with session_scope() as db:
        _apply(signin_flow.codes_saved(_pending(), session=db, now=now), now)


def _on_cancel() -> None:
    st.session_state.pop(keys.LOGIN_PENDING, None)


def _on_redeem_code() -> None:
    state = st.session_state
    with session_scope() as db:
        step = signin_flow.redeem_code(
            state.get(keys.ACTIVATE_CODE, ""),
            username=state.get(keys.ACTIVATE_USERNAME, ""),
            password=state.get(keys.ACTIVATE_PASSWORD, ""),
            confirm=state.get(keys.ACTIVATE_CONFIRM, ""),
            session=db,
            now=utcnow(),
        )
    if step.error is not None:
        state.pop(keys.LOGIN_NOTICE, None)
        state[keys.LOGIN_ERROR] = step.error
        return
    for key in (keys.ACTIVATE_CODE, keys.ACTIVATE_PASSWORD, keys.ACTIVATE_CONFIRM):
        state[key] = ""
    state[keys.LOGIN_NOTICE] = step.notice


# --- drawing -----------------------------------------------------------------------------------


# What a screen reader says for the QR code: it tells what the picture is for and where the
# same key is written out (the code box under it).
QR_ALT = "QR code to scan with your authenticator app; the same key is written out below."


def qr_png(data: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=5, border=2)
    return buffer.getvalue()


def show_recovery_codes(codes: list[str]) -> None:
    st.warning(
        "Save these recovery codes somewhere safe. Each works once, if you lose your phone. "
        "They will not be shown again."
    )
    st.code("\n".join(codes), language=None)


def _code_form() -> None:
    with st.form("activate_form"):
        st.subheader("Activate my account")
        st.caption(
            "The clinic gives you a code to activate your portal account or to reset a "
            f"forgotten password. Passwords need at least {get_settings().password_min_length} "
            "characters; a short sentence is easy to remember."
        )
        st.text_input("Code from the clinic", key=keys.ACTIVATE_CODE, placeholder="ABCD-EFGH-JKLM")
        st.text_input(
            "Choose a username", key=keys.ACTIVATE_USERNAME, help="Only for a new account."
        )
        st.text_input("New password", type="password", key=keys.ACTIVATE_PASSWORD)
        st.text_input("New password again", type="password", key=keys.ACTIVATE_CONFIRM)
        st.form_submit_button("Activate or reset", on_click=_on_redeem_code)


def _mfa_form() -> None:
    with st.form("mfa_form"):
        st.subheader("Two-step sign-in")
        st.caption("Enter the 6-digit code from your authenticator app, or a recovery code.")
        st.text_input("Code", key=keys.LOGIN_MFA_CODE, autocomplete="one-time-code")
        st.form_submit_button("Verify", on_click=_on_mfa_code, type="primary")
    st.button("Cancel", on_click=_on_cancel)


def _enrol_form(pending: signin_flow.Pending) -> None:
    with session_scope() as db:
        # The password step just found this account; gone since, it is a plain NotFound.
        user = get_or_not_found(db, User, pending["user_id"], "We could not find your account.")
    st.subheader("Set up two-step sign-in")
    st.write(
        "Clinic staff must use an authenticator app. Scan this code with it (for example "
        "Google Authenticator, Microsoft Authenticator or 1Password), then enter the code it shows."
    )
    st.image(qr_png(mfa.provisioning_uri(user, pending["secret"])), width=220, alt=QR_ALT)
    st.caption("Cannot scan? Enter this key by hand:")
    st.code(pending["secret"], language=None)
    with st.form("enrol_form"):
        st.text_input("Code from the app", key=keys.LOGIN_ENROL_CODE)
        st.form_submit_button("Turn on two-step sign-in", on_click=_on_enrol, type="primary")
    st.button("Cancel", on_click=_on_cancel)


def _login_screen(now: datetime) -> None:
    settings = get_settings()
    st.title(settings.clinic_name)
    st.caption("Patient portal: sign in to see your health record, results and visits.")
    # One slot for messages, so the forms below keep their positions (see _sync_cookie). A notice
    # ("You have signed out") stays until the next attempt: the cookie components rerun the script
    # on their own, and a notice dropped on first display would flash and vanish.
    with st.container():
        notice = st.session_state.get(keys.LOGIN_NOTICE)
        if notice:
            st.info(notice)
        error = st.session_state.pop(keys.LOGIN_ERROR, None)
        if error:
            st.error(error)
    pending = signin_flow.still_pending(st.session_state.get(keys.LOGIN_PENDING), now)
    if pending is None:
        st.session_state.pop(keys.LOGIN_PENDING, None)
    if pending and pending["step"] == "mfa":
        _mfa_form()
    elif pending and pending["step"] == "enrol":
        _enrol_form(pending)
    elif pending and pending["step"] == "codes":
        show_recovery_codes(pending["codes"])
        st.button("I have saved my codes", on_click=_on_codes_saved, type="primary")
    else:
        sign_in, activate = st.tabs(["Sign in", "Activate my account or reset my password"])
        with sign_in:
            _password_step(now)
        with activate:
            _code_form()


@st.fragment(run_every=timedelta(seconds=15))
def _idle_watch() -> None:
    """Checks the server-side idle clock without counting as activity; signs out when it ran out."""
    token = st.session_state.get(keys.AUTH_TOKEN)
    if token is None:
        return
    with session_scope() as db:
        left = sessions.seconds_left(token, session=db, now=utcnow())
    if left <= 0:
        st.rerun(scope="app")


def require_login() -> User:
    """Return the signed-in user, or draw the sign-in screen and stop the script run."""
    now = utcnow()
    user = _session_user(now)
    _sync_cookie()
    if user is not None:
        return user
    hide_navigation()
    _login_screen(now)
    st.stop()


def _on_sign_out() -> None:
    with session_scope() as db:
        sessions.sign_out(st.session_state.get(keys.AUTH_TOKEN), session=db, now=utcnow())
    forget_everything(notice=sessions.END_MESSAGES["signed_out"])
    st.session_state[keys.COOKIE_TO_DELETE] = True


def logout_button(user: User) -> None:
    """The sidebar sign-out button (ends the session on the server too) and the idle watch."""
    st.sidebar.button("Sign out", key="sign_out", on_click=_on_sign_out)
    with st.sidebar:
        _idle_watch()
