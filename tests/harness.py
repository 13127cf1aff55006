"""The one AppTest harness for page tests: the real app.py with its real sign-in gate and router
on every run. A test signs in by opening a real server-side session (as the sign-in form does
after the password and second step), so the gate validates it exactly as in production."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from components import session_keys as keys
from components.navigation import PAGES, menu_for
from db.engine import session_scope
from db.models import Role
from portal.config import PROJECT_ROOT
from portal.services import sessions
from portal.services.users import get_active_user

APP = str(PROJECT_ROOT / "app.py")


def session_token(username: str) -> str:
    """A live server-side session for ``username`` (what a completed sign-in leaves behind)."""
    with session_scope() as db:
        user = get_active_user(username, session=db)
        assert user is not None, f"no active account {username!r}"
        return sessions.start(user, session=db, now=datetime.now(UTC), method="test")


def sign_in(at: AppTest, username: str) -> AppTest:
    """Put a signed-in browser's state into ``at`` (before a run): the session token only."""
    at.session_state[keys.AUTH_TOKEN] = session_token(username)
    at.session_state[keys.COOKIE_CHECKED] = True
    return at


def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    """Open a page by name ("messages") or file ("pages/messages.py"), as its menu link does.

    AppTest.switch_page only knows file-backed pages; ours are registered functions whose
    address is the module name, and Streamlit identifies a page by the hash of its address.
    """
    name = Path(page).stem
    assert name in PAGES, f"unknown page {page!r}"
    page_hash = calc_hash(name)
    if page_hash not in at._registered_pages:  # noqa: SLF001 (what this user's menu registered)
        raise ValueError(f"Could not find a navigation page for {page!r} in this user's menu.")
    at._page_hash = page_hash  # noqa: SLF001 (no public API for function pages)
    return run_ok(at)


def open_app(
    username: str | None = None, page: str | None = None, *, timeout: float = 30, **state
) -> AppTest:
    """The app, signed in as ``username`` (or not signed in), then on ``page`` if given."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if username is not None:
        sign_in(at, username)
    for key, value in state.items():
        at.session_state[key] = value
    run_ok(at)
    if page is not None:
        goto(at, page)
    return at


def open_component(
    script: Callable[..., None], *args: object, timeout: float = 30, **state: object
) -> AppTest:
    """One component drawn alone: ``script(*args)`` run as its own app (AppTest.from_function),
    with ``state`` in session state first. AppTest runs the function's source by itself, so
    ``script`` imports what it uses inside it and gets rows by id."""
    at = AppTest.from_function(script, args=args, default_timeout=timeout)
    for key, value in state.items():
        at.session_state[key] = value
    return run_ok(at)


def freeze_clock(monkeypatch: pytest.MonkeyPatch, now: datetime, *modules: ModuleType) -> None:
    """Stop the wall clock at ``now`` for these page or component modules: they read it as
    ``portal.clock.utcnow``, imported by name, so the name is replaced where it is read."""
    for module in modules:
        monkeypatch.setattr(module, "utcnow", lambda: now)


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


def _render_page(name: str) -> None:
    import importlib

    importlib.import_module(f"pages.{name}").render()


def force_page(username: str, page: str, *, timeout: float = 30, **state) -> AppTest:
    """A page's render() run for ``username`` without the router: what a person who somehow
    reached a page their menu does not offer would get. The services must still refuse."""
    name = Path(page).stem
    at = AppTest.from_function(_render_page, args=(name,), default_timeout=timeout)
    sign_in(at, username)
    for key, value in state.items():
        at.session_state[key] = value
    return run_ok(at)


def menu(role: Role) -> dict[str, list[str]]:
    """A role's menu as page files ("pages/messages.py"), by section."""
    return {
        section: [f"pages/{name}.py" for name in names] for section, names in menu_for(role).items()
    }


def menu_paths(role: Role) -> list[str]:
    return [path for paths in menu(role).values() for path in paths]


def menu_titles(role: Role) -> list[str]:
    return [PAGES[name].title for names in menu_for(role).values() for name in names]
