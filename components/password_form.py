"""The password step: streamlit-authenticator's ``Authenticate.login`` form, with its credentials
read from the users table one account at a time (``_AccountOnDemand``).

Everything around it is ours, because the package cannot do it: its JWT cookie
({username, exp_date}) is readable by page scripts and stays valid after logout, and it knows no
database lockout, second factor or revocation. So the package only compares the password with
the stored bcrypt hash; the decisions are portal.signin_flow's:

- the package never writes its cookie (``cookie_expiry_days=0``: its ``set_cookie`` does nothing)
  and could not read one (a throw-away signing key each run, under a name we never set);
- a locked or disabled account is left out of the credentials, so its password is not checked;
- its ``authentication_status`` only tells us how the password check went: a failure is counted
  by ``login.password_failed`` (lockout), a success goes on to MFA and ``sessions.start``.
"""

import secrets
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.models import cookie_model as stauth_cookie_model

from components import session_keys as keys
from portal import signin_flow
from portal.config import get_settings
from portal.services import login as login_service
from portal.services import login_throttle as throttle
from portal.services.unit_of_work import session_scope

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


class _AccountOnDemand(Mapping[str, dict[str, Any]]):
    """streamlit-authenticator's ``credentials["usernames"]``, read from the users table on demand.

    The package looks up only the name typed into the form, so only that row (and its hash) is
    read. Locked and disabled accounts are left out: the package then refuses them without
    checking the password. ``tried`` is the last name looked up, to count a failure against it.
    """

    def __init__(self, now: datetime, client: str | None):
        self._now = now
        self._client = client
        self._entries: dict[str, dict[str, Any] | None] = {}
        self.tried: str | None = None
        self.device_waits = False

    def __getitem__(self, username: str) -> dict[str, Any]:
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

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def set(self, *args: object, **kwargs: object) -> None:
        pass

    def delete(self, *args: object, **kwargs: object) -> None:
        pass


# Only the package's own reference is replaced (portal code never imports the component).
stauth_cookie_model.stx = SimpleNamespace(CookieManager=_NoCookieManager)


def _authenticator(accounts: _AccountOnDemand) -> stauth.Authenticate:
    credentials: dict[str, Any] = {"usernames": {}}
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


def password_form(now: datetime) -> signin_flow.Step | None:
    """Draw the form; once a password was sent, the step it decided (None: nothing sent)."""
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
        return None  # nothing sent (or no username typed)
    # The package's "signed in" is only a matched password; our session decides who is signed in.
    st.session_state[keys.AUTH_STATUS] = None
    for key in (keys.AUTH_USERNAME, *_PACKAGE_KEYS):
        st.session_state.pop(key, None)
    time.sleep(get_settings().login_sleep_seconds)  # slows scripted guessing
    with session_scope() as db:
        return signin_flow.after_password(
            accepted[0] if verdict and accepted else None,
            accounts.tried,
            device_waits=accounts.device_waits,
            client=client,
            session=db,
            now=now,
        )
