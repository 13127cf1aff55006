"""The login cookie, written and deleted in the browser by a small inline script (st.html).

No component round trip: the old cookie component (and the one streamlit-authenticator draws)
reported back to the server when it loaded, which reran the app and could swallow what a person
was typing into the sign-in form. The script runs once, when its element arrives; it marks the
cookie ``Secure`` whenever the page itself came over HTTPS (behind the proxy). Its text is a
constant (portal/browser_scripts.py) so the proxy's CSP allows it by hash; the cookie travels in
an attribute beside it."""

from datetime import datetime
from email.utils import format_datetime
from html import escape

import streamlit as st

from portal.browser_scripts import COOKIE_WRITER

_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def _run(cookie: str) -> None:
    st.html(
        f'<span hidden data-portal-cookie="{escape(cookie, quote=True)}"></span>'
        f"<script>{COOKIE_WRITER}</script>",
        unsafe_allow_javascript=True,
    )


def write(name: str, value: str, *, expires: datetime) -> None:
    """Store ``name=value`` until ``expires`` (the value is our signed token: URL-safe text)."""
    when = format_datetime(expires, usegmt=True)
    _run(f"{name}={value}; expires={when}; path=/; SameSite=Strict")


def delete(name: str) -> None:
    _run(f"{name}=; expires={_EPOCH}; path=/; SameSite=Strict")
