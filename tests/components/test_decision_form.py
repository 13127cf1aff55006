"""components/decision_form.py: the reason goes with the yes or no to the decision, and the
runner gets the matching confirmation."""

import pytest
from streamlit.testing.v1 import AppTest


def _form() -> None:
    import streamlit as st

    from components.decision_form import DecisionWords, decision_form

    words = DecisionWords("Approve", "Deny", "Reason", "Approved.", "Denied.")

    def decide(granted: bool, reason: str, session) -> tuple:
        return (granted, reason, session)

    def run(action, confirmation: str) -> None:
        st.session_state["ran"] = (action("the session"), confirmation)

    decision_form("form", "why", words, decide, run)


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ("Approve", ((True, "fine", "the session"), "Approved.")),
        ("Deny", ((False, "fine", "the session"), "Denied.")),
    ],
)
def test_each_button_runs_the_decision_with_the_reason(button, expected):
    at = AppTest.from_function(_form, default_timeout=30).run()
    at.text_area(key="why").input("fine")
    [pressed] = [b for b in at.button if b.label == button]
    at = pressed.click().run()
    assert not at.exception, at.exception
    assert at.session_state["ran"] == expected


def test_nothing_runs_until_a_button_is_pressed():
    at = AppTest.from_function(_form, default_timeout=30).run()
    assert "ran" not in at.session_state
    assert {b.label for b in at.button} == {"Approve", "Deny"}


def test_item_decision_calls_the_service_on_the_seen_version_with_its_own_yes_word(monkeypatch):
    from components import decision_form
    from tests.conftest import NOW
    from tests.harness import freeze_clock

    freeze_clock(monkeypatch, NOW, decision_form)
    calls = []

    def decide(user, item_id, seen, **keywords):
        calls.append((user, item_id, seen, keywords))
        return "decided"

    on_item = decision_form.item_decision(decide, "nurse", 7, 3, yes="accept")
    assert on_item(False, "Not this one", "the session") == "decided"
    assert calls == [
        (
            "nurse",
            7,
            3,
            {"accept": False, "reason": "Not this one", "session": "the session", "now": NOW},
        )
    ]
