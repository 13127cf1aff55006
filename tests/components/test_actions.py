"""components/actions.py: run an action, say a refusal plainly, flash the success after the rerun.

The scripts below are whole Streamlit apps (AppTest.from_function runs the function's source):
they import what they use inside the function."""

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.usefixtures("app_env")


def _app(outcome: str) -> None:
    import streamlit as st

    from components.actions import flash, run_action, show_flash
    from portal.errors import NotAllowed

    st.session_state.setdefault("runs", 0)
    st.session_state["runs"] += 1
    show_flash()

    def act(session):
        assert session is not None  # a database session of its own
        if outcome.startswith("refuse"):
            raise NotAllowed("Not for you: **no**.")
        return 3

    def stale(error) -> bool:
        flash("warning", f"Changed meanwhile. {error.user_message}")
        return True

    if st.button("Go"):
        run_action(
            act,
            None if outcome == "quiet" else lambda n: f"Done {n} things, *really*.",
            after=lambda n: st.session_state.__setitem__("after", n),
            refused=stale if outcome == "refuse-redraw" else None,
        )
    st.text("page goes on")


def _click_go(outcome: str) -> AppTest:
    at = AppTest.from_function(_app, args=(outcome,), default_timeout=30)
    at.run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_a_success_is_flashed_literally_after_the_rerun():
    at = _click_go("succeed")
    assert [s.value for s in at.success] == [r"Done 3 things, \*really\*."]
    assert at.session_state["runs"] == 3  # first run, the click, the rerun that shows the flash
    assert at.session_state["after"] == 3
    at.run()
    assert not at.success  # shown once


def test_the_flash_is_also_a_toast_where_the_person_is_scrolled_to():
    at = _click_go("succeed")
    assert [(t.value, t.icon) for t in at.toast] == [
        (r"Done 3 things, \*really\*.", ":material/check_circle:")
    ]
    at.run()
    assert not at.toast  # once, like the alert


def test_a_warning_flash_gets_a_warning_toast():
    at = _click_go("refuse-redraw")
    assert [t.icon for t in at.toast] == [":material/warning:"]


def test_a_refusal_is_a_plain_message_on_this_run_and_the_page_goes_on():
    at = _click_go("refuse")
    assert [e.value for e in at.error] == [r"Not for you: \*\*no\*\*."]
    assert not at.success and "after" not in at.session_state
    assert at.session_state["runs"] == 2  # no rerun
    assert "page goes on" in [t.value for t in at.text]


def test_a_refusal_the_page_handles_is_flashed_after_a_redraw():
    at = _click_go("refuse-redraw")
    assert not at.error
    assert [w.value for w in at.warning] == [r"Changed meanwhile. Not for you: \*\*no\*\*."]
    assert at.session_state["runs"] == 3


def test_no_confirmation_means_no_flash_but_after_still_runs():
    at = _click_go("quiet")
    assert not at.success and not at.error
    assert at.session_state["after"] == 3
