"""components/visit_card.confirm_cancel: "Cancel visit" asks first; only "Yes" cancels."""

from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.usefixtures("app_env")


def _card(start) -> None:
    from types import SimpleNamespace

    import streamlit as st

    from components.visit_card import confirm_cancel

    row = SimpleNamespace(booking=SimpleNamespace(id=3, start=start), title="Follow-up visit")
    confirm_cancel(row, lambda: st.session_state.__setitem__("cancelled", True))


def _press(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    at = button.click().run()
    assert not at.exception, at.exception
    return at


def _app() -> AppTest:
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    return AppTest.from_function(_card, args=(start,), default_timeout=30).run()


def test_cancel_asks_first_and_keep_goes_back():
    at = _press(_app(), "Cancel visit")
    assert {b.label for b in at.button} == {"Keep visit", "Yes, cancel visit"}
    assert "Follow-up visit" in at.warning[0].value
    at = _press(at, "Keep visit")
    assert {b.label for b in at.button} == {"Cancel visit"}
    assert "cancelled" not in at.session_state


def test_only_yes_cancels():
    at = _press(_press(_app(), "Cancel visit"), "Yes, cancel visit")
    assert at.session_state["cancelled"] is True
