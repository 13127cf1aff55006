"""A signed-in AppTest of the real app, shared by the page tests.

The login gate (password, MFA, cookies) has its own tests in tests/security; here it is replaced
by one that trusts the username put in session state, so page tests are about pages. The role
and patient link still come from the database on every run, as in production.
"""

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

import components.login
from components import session_keys as keys
from portal.config import PROJECT_ROOT, get_settings
from portal.services.users import get_active_user

TEST_COOKIE_KEY = "test-cookie-key-test-cookie-key-0123"


def _signed_in_user():
    import streamlit as st

    from db.engine import session_scope

    with session_scope() as session:
        return get_active_user(st.session_state.get(keys.AUTH_USERNAME), session=session)


@pytest.fixture
def app_env(engine, monkeypatch):
    """Settings for an app run (test database, cookie key, no login pause) and the trusted gate."""
    monkeypatch.setenv("COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("LOGIN_SLEEP_SECONDS", "0")
    get_settings.cache_clear()
    monkeypatch.setattr(components.login, "require_login", _signed_in_user)
    monkeypatch.setattr(components.login, "logout_button", lambda user: None)
    yield engine
    get_settings.cache_clear()


def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def open_page(app_env) -> Callable[..., AppTest]:
    """open_page(username, "pages/x.py", **session_state): the app signed in, on that page."""

    def _open(username: str, page: str | None = None, **state) -> AppTest:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
        at.session_state[keys.AUTH_STATUS] = True
        at.session_state[keys.AUTH_USERNAME] = username
        for key, value in state.items():
            at.session_state[key] = value
        run_ok(at)
        if page is not None:
            at.switch_page(page)
            run_ok(at)
        return at

    return _open


def click(at: AppTest, label: str, index: int = 0) -> AppTest:
    [b for b in at.button if b.label == label][index].click()
    return run_ok(at)


def texts(at: AppTest) -> list[str]:
    """Every plain text and caption on the page (EHR text is drawn with st.text)."""
    return [t.value for t in at.text] + [c.value for c in at.caption]


def table_values(at: AppTest) -> list[str]:
    """Every cell of every table on the page, as strings."""
    cells = []
    for frame in at.dataframe:
        cells.extend(str(v) for v in frame.value.to_numpy().ravel())
    return cells
