"""components/request_card.run_staff_action: a stale item is said plainly and drawn again as it
is now; a sent reply's boxes are emptied on the next run."""

import pytest
from streamlit.testing.v1 import AppTest

from components import session_keys as keys

pytestmark = pytest.mark.usefixtures("app_env")


def _card(stale: bool) -> None:
    import streamlit as st

    from components import session_keys as keys
    from components.actions import show_flash
    from components.request_card import run_staff_action
    from db.models import TriageItem
    from portal.services.triage import StaleItem

    show_flash()
    st.session_state.setdefault(keys.TRIAGE_SEEN_VERSIONS, {7: 1, 8: 4})

    def act(session):
        if stale:
            raise StaleItem(TriageItem(id=7, kind="message", ref_id=1, patient_id=1, status="new"))
        return None

    if st.button("Send"):
        run_staff_action(act, "Reply sent.", clear=("reply_body_7",))


def _press(stale: bool) -> AppTest:
    at = AppTest.from_function(_card, args=(stale,), default_timeout=30).run()
    at = at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_a_stale_item_is_said_plainly_and_its_seen_version_forgotten():
    at = _press(stale=True)
    [warning] = at.warning
    assert "Someone else updated this item" in warning.value
    assert at.session_state[keys.TRIAGE_SEEN_VERSIONS] == {8: 4}  # drawn afresh next time
    assert keys.TRIAGE_CLEAR_FIELDS not in at.session_state  # nothing was sent


def test_a_success_flashes_and_asks_to_empty_the_reply_box():
    at = _press(stale=False)
    assert [s.value for s in at.success] == ["Reply sent."]
    assert at.session_state[keys.TRIAGE_CLEAR_FIELDS] == ("reply_body_7",)
    assert at.session_state[keys.TRIAGE_SEEN_VERSIONS] == {7: 1, 8: 4}
