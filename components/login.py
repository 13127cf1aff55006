"""The login gate: password, lockout, MFA, account activation, server-side sessions.

The password step is streamlit-authenticator's ``Authenticate.login`` form, with its credentials
read from the users table one account at a time (``_AccountOnDemand``). Everything around it is
ours, because the package cannot do it: its JWT cookie ({username, exp_date}) is readable by page
scripts and stays valid after logout, and it knows no database lockout, second factor or
revocation. So the package only compares the password with the stored bcrypt hash; the decisions
are made by the services in portal/services (login, mfa, sessions, account_codes):

- the package never writes its cookie (``cookie_expiry_days=0``: its ``set_cookie`` does nothing)
  and could not read one (a throw-away signing key each run, under a name we never set);
- a locked or disabled account is left out of the credentials, so its password is not checked;
- its ``authentication_status`` only tells us how the password check went: a failure is counted
  by ``login.password_failed`` (lockout), a success goes on to MFA and ``sessions.start``.

The browser cookie carries only a signed random session token; the database says whether that
session is still alive (idle time-out, absolute lifetime, logout, password change). The role and
the patient link always come from the database.
"""

import io
import secrets
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import segno
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.models import cookie_model as stauth_cookie_model

from components import browser_cookie
from components import session_keys as keys
from components.current_user import end_browser_session, forget_everything, user_for_token
from components.navigation import hide_navigation
from db.models import User
from portal.config import get_settings
from portal.errors import PortalError
from portal.services import account_codes, mfa, sessions
from portal.services import login as login_service
from portal.services import login_throttle as throttle
from portal.services import users as users_service
from portal.services.unit_of_work import session_scope

# A half-finished sign-in (password accepted, code not yet entered) is forgotten after this.
PENDING_LIFETIME = timedelta(minutes=5)

# Browser tests find the form by these labels; the key keeps it apart from the activation form.
SIGN_IN_FIELDS = {
    "Form name": "Sign in",
    "Username": "Username",
    "Password": "Password",
    "Login": "Sign in",
}
SIGN_IN_FORM_KEY = "portal_sign_in"
# Session-state keys streamlit-authenticator writes besides authentication_status and username.
_PACKAGE_KEYS = ("name", "email", "roles")


def _now() -> datetime:
    return datetime.now(UTC)


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


def _finish(user: User, *, db, now: datetime, method: str) -> None:
    token = sessions.start(user, session=db, now=now, method=method)
    # Whatever the tab held before (the last person's screens, a half-done sign-in) is gone.
    forget_everything()
    st.session_state.pop(keys.LOGIN_NOTICE, None)
    _keep_session(token, now)


class _AccountOnDemand(Mapping):
    """streamlit-authenticator's ``credentials["usernames"]``, read from the users table on demand.

    The package looks up only the name typed into the form, so only that row (and its hash) is
    read. Locked and disabled accounts are left out: the package then refuses them without
    checking the password. ``tried`` is the last name looked up, to count a failure against it.
    """

    def __init__(self, now: datetime, client: str | None):
        self._now = now
        self._client = client
        self._entries: dict[str, dict | None] = {}
        self.tried: str | None = None
        self.device_waits = False

    def __getitem__(self, username: str) -> dict:
        name = login_service.normalize_username(username)
        self.tried = name
        with session_scope() as db:
            self.device_waits = throttle.client_wait(self._client, session=db, now=self._now) > 0
        if self.device_waits:
            raise KeyError(username)  # no password is checked while this device must wait
        if name not in self._entries:
            with session_scope() as db:
                self._entries[name] = login_service.credentials_entry(
                    name, session=db, now=self._now
                )
        entry = self._entries[name]
        if entry is None:
            raise KeyError(username)
        return entry

    def __iter__(self) -> Iterator[str]:
        return (name for name, entry in self._entries.items() if entry is not None)

    def __len__(self) -> int:
        return sum(entry is not None for entry in self._entries.values())


class _NoCookieManager:
    """Stands in for the cookie component streamlit-authenticator draws on every run: we keep our
    own session cookie, and that component's report on loading reran the app and could swallow
    what a person was typing into the form. Its cookie is never read or written here."""

    def __init__(self, *args, **kwargs):
        pass

    def set(self, *args, **kwargs):
        pass

    def delete(self, *args, **kwargs):
        pass


# Only the package's own reference is replaced (portal code never imports the component).
stauth_cookie_model.stx = SimpleNamespace(CookieManager=_NoCookieManager)


def _authenticator(accounts: _AccountOnDemand) -> stauth.Authenticate:
    credentials: dict = {"usernames": {}}
    authenticator = stauth.Authenticate(
        credentials,
        cookie_name=f"{get_settings().cookie_name}_unused",
        # Nothing is ever signed with it: cookie_expiry_days=0 makes set_cookie() write nothing,
        # and a fresh key per run means no cookie under that name could ever verify.
        cookie_key=secrets.token_urlsafe(32),
        cookie_expiry_days=0,
        auto_hash=False,  # the table holds bcrypt hashes only
        login_sleep_time=0,  # we pause on a submitted attempt instead (LOGIN_SLEEP_SECONDS)
    )
    # The package keeps this very dict and reads credentials["usernames"] when the form is sent.
    credentials["usernames"] = accounts
    return authenticator


def client_key() -> str | None:
    """The address sign-in throttling counts failures against (see TRUST_PROXY_HEADERS)."""
    if get_settings().trust_proxy_headers:
        forwarded = st.context.headers.get("X-Forwarded-For")
        if isinstance(forwarded, str) and forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64]
    address = st.context.ip_address
    return address[:64] if isinstance(address, str) and address else None


def _password_step(now: datetime) -> None:
    """streamlit-authenticator's login form; its verdict goes to our throttling, MFA, sessions."""
    client = client_key()
    accounts = _AccountOnDemand(now, client)
    accepted: list[str] = []
    # Only this run's verdict counts: a stale True or False must never carry over.
    st.session_state[keys.AUTH_STATUS] = None
    _authenticator(accounts).login(
        location="main",
        fields=SIGN_IN_FIELDS,
        key=SIGN_IN_FORM_KEY,
        clear_on_submit=True,
        callback=lambda info: accepted.append(info["username"]),
    )
    verdict = st.session_state.get(keys.AUTH_STATUS)
    if verdict is None:
        return  # nothing sent (or no username typed)
    # The package's "signed in" is only a matched password; our session decides who is signed in.
    st.session_state[keys.AUTH_STATUS] = None
    for key in (keys.AUTH_USERNAME, *_PACKAGE_KEYS):
        st.session_state.pop(key, None)
    time.sleep(get_settings().login_sleep_seconds)  # slows scripted guessing
    accepted_name = accepted[0] if verdict and accepted else None
    _after_password(accepted_name, accounts, client=client, now=now)
    st.rerun()


def _after_password(
    accepted: str | None, accounts: _AccountOnDemand, *, client: str | None, now: datetime
) -> None:
    st.session_state.pop(keys.LOGIN_NOTICE, None)
    with session_scope() as db:
        try:
            if accounts.device_waits:
                login_service.check_device(client, session=db, now=now)
            if accepted is None:
                login_service.password_failed(
                    accounts.tried, None, session=db, now=now, client_key=client
                )
            result = login_service.password_passed(accepted, session=db, now=now)
        except login_service.LoginFailed as failed:
            st.session_state[keys.LOGIN_ERROR] = failed.user_message
            return
        if result.next_step == "done":
            _finish(result.user, db=db, now=now, method="password")
            return
        pending = {"user_id": result.user.id, "step": result.next_step, "since": now}
        if result.next_step == "enrol":
            pending["secret"] = mfa.new_secret()
        st.session_state[keys.LOGIN_PENDING] = pending


def change_password(user: User, *, current: str, new: str, confirm: str) -> None:
    """Change the signed-in user's password: this browser gets a fresh session, all others end.

    Raises a PortalError with a plain message (wrong current password, policy, paused account).
    """
    now = _now()
    with session_scope() as db:
        account = db.get(User, user.id)
        users_service.change_password(
            account, current=current, new=new, confirm=confirm, session=db, now=now
        )
        token = sessions.renew(st.session_state.get(keys.AUTH_TOKEN), account, session=db, now=now)
    _keep_session(token, now)


# --- callbacks: run before the script, so the page drawn next already reflects the result ------


def _pending_user(db, now: datetime) -> User | None:
    pending = st.session_state.get(keys.LOGIN_PENDING)
    user = db.get(User, pending["user_id"]) if pending else None
    if user is None or not user.active or login_service.is_locked_until_reset(user, now):
        st.session_state.pop(keys.LOGIN_PENDING, None)
        st.session_state[keys.LOGIN_ERROR] = login_service.LoginFailed.user_message
        return None
    return user


def _on_mfa_code() -> None:
    code = st.session_state.get("login_mfa_code", "")
    st.session_state["login_mfa_code"] = ""
    now = _now()
    with session_scope() as db:
        user = _pending_user(db, now)
        if user is None:
            return
        if login_service.is_locked(user, now):
            wait = (user.locked_until - now).total_seconds()
            st.session_state[keys.LOGIN_ERROR] = (
                f"Too many wrong codes. Please wait {max(wait, 1):.0f} seconds and try again."
            )
        elif mfa.check_code(user, code, session=db, now=now):
            _finish(user, db=db, now=now, method="password + MFA")
        elif login_service.is_locked_until_reset(user, now):
            st.session_state.pop(keys.LOGIN_PENDING, None)
            st.session_state[keys.LOGIN_ERROR] = login_service.LoginFailed.user_message
        else:
            st.session_state[keys.LOGIN_ERROR] = "That code is not right. Please try again."


def _on_enrol() -> None:
    code = st.session_state.get("login_enrol_code", "")
    now = _now()
    pending = st.session_state.get(keys.LOGIN_PENDING) or {}
    with session_scope() as db:
        user = _pending_user(db, now)
        if user is None:
            return
        try:
            codes = mfa.enable(user, pending["secret"], code, session=db, now=now)
        except PortalError as error:
            st.session_state[keys.LOGIN_ERROR] = error.user_message
            return
    pending.update(step="codes", codes=codes)


def _on_codes_saved() -> None:
    now = _now()
    with session_scope() as db:
        user = _pending_user(db, now)
        if user is not None:
            _finish(user, db=db, now=now, method="password + MFA enrolment")


def _on_cancel() -> None:
    st.session_state.pop(keys.LOGIN_PENDING, None)


def _on_redeem_code() -> None:
    state = st.session_state
    now = _now()
    with session_scope() as db:
        try:
            account = account_codes.redeem(
                state.get("activate_code", ""),
                username=state.get("activate_username", ""),
                password=state.get("activate_password", ""),
                confirm=state.get("activate_confirm", ""),
                session=db,
                now=now,
            )
        except PortalError as error:
            state.pop(keys.LOGIN_NOTICE, None)
            state[keys.LOGIN_ERROR] = error.user_message
            return
    for key in ("activate_code", "activate_password", "activate_confirm"):
        state[key] = ""
    state[keys.LOGIN_NOTICE] = (
        f"Your account is ready. Sign in as {account.username} with your new password."
    )


# --- drawing -----------------------------------------------------------------------------------


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
        st.text_input("Code from the clinic", key="activate_code", placeholder="ABCD-EFGH-JKLM")
        st.text_input("Choose a username", key="activate_username", help="Only for a new account.")
        st.text_input("New password", type="password", key="activate_password")
        st.text_input("New password again", type="password", key="activate_confirm")
        st.form_submit_button("Activate or reset", on_click=_on_redeem_code)


def _mfa_form() -> None:
    with st.form("mfa_form"):
        st.subheader("Two-step sign-in")
        st.caption("Enter the 6-digit code from your authenticator app, or a recovery code.")
        st.text_input("Code", key="login_mfa_code", autocomplete="one-time-code")
        st.form_submit_button("Verify", on_click=_on_mfa_code, type="primary")
    st.button("Cancel", on_click=_on_cancel)


def _enrol_form(pending: dict) -> None:
    with session_scope() as db:
        user = db.get(User, pending["user_id"])
    st.subheader("Set up two-step sign-in")
    st.write(
        "Clinic staff must use an authenticator app. Scan this code with it (for example "
        "Google Authenticator, Microsoft Authenticator or 1Password), then enter the code it shows."
    )
    st.image(qr_png(mfa.provisioning_uri(user, pending["secret"])), width=220)
    st.caption("Cannot scan? Enter this key by hand:")
    st.code(pending["secret"], language=None)
    with st.form("enrol_form"):
        st.text_input("Code from the app", key="login_enrol_code")
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
    pending = st.session_state.get(keys.LOGIN_PENDING)
    if pending and now - pending["since"] > PENDING_LIFETIME:
        st.session_state.pop(keys.LOGIN_PENDING, None)
        pending = None
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
        left = sessions.seconds_left(token, session=db, now=_now())
    if left <= 0:
        st.rerun(scope="app")


def require_login() -> User:
    """Return the signed-in user, or draw the sign-in screen and stop the script run."""
    now = _now()
    user = _session_user(now)
    _sync_cookie()
    if user is not None:
        return user
    hide_navigation()
    _login_screen(now)
    st.stop()


def _on_sign_out() -> None:
    with session_scope() as db:
        sessions.sign_out(st.session_state.get(keys.AUTH_TOKEN), session=db, now=_now())
    forget_everything(notice=sessions.END_MESSAGES["signed_out"])
    st.session_state[keys.COOKIE_TO_DELETE] = True


def logout_button(user: User) -> None:
    """The sidebar sign-out button (ends the session on the server too) and the idle watch."""
    st.sidebar.button("Sign out", key="sign_out", on_click=_on_sign_out)
    with st.sidebar:
        _idle_watch()
