"""The login cookie, written and deleted in the browser by a one-line inline script (st.html).

No component round trip: the old cookie component (and the one streamlit-authenticator draws)
reported back to the server when it loaded, which reran the app and could swallow what a person
was typing into the sign-in form. The script runs once, when its element arrives; it marks the
cookie ``Secure`` whenever the page itself came over HTTPS (behind the proxy)."""

import json
from datetime import datetime
from email.utils import format_datetime

import streamlit as st

_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def _run(cookie: str) -> None:
    script = (
        "<script>document.cookie = "
        + json.dumps(cookie)
        + ' + (location.protocol === "https:" ? "; Secure" : "");</script>'
    )
    st.html(script, unsafe_allow_javascript=True)


def write(name: str, value: str, *, expires: datetime) -> None:
    """Store ``name=value`` until ``expires`` (the value is our signed token: URL-safe text)."""
    when = format_datetime(expires, usegmt=True)
    _run(f"{name}={value}; expires={when}; path=/; SameSite=Strict")


def delete(name: str) -> None:
    _run(f"{name}=; expires={_EPOCH}; path=/; SameSite=Strict")
