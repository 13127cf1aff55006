"""components/remembered_pick.py: the picker opens on the kept choice while it is listed, on the
first option once it is gone, and keeps what was picked."""

from tests.harness import open_component, run_ok


def _picker(options: list[int]) -> None:
    import streamlit as st

    from components.remembered_pick import remembered_pick

    if st.session_state.get("drop_three"):
        options = [o for o in options if o != 3]
    st.session_state["shown"] = remembered_pick(
        st.radio, "Item", options, "kept", format_func=lambda i: f"item {i}"
    )


def test_the_pick_is_kept_while_listed_and_falls_back_to_the_first():
    at = open_component(_picker, [1, 2, 3])
    assert (at.radio[0].value, at.session_state["kept"]) == (1, 1)

    at.radio[0].set_value(3)
    run_ok(at)
    assert (at.session_state["shown"], at.session_state["kept"]) == (3, 3)
    at.session_state["drop_three"] = True  # the kept item left the list
    run_ok(at)
    assert (at.session_state["shown"], at.session_state["kept"]) == (1, 1)


def test_a_choice_kept_from_before_opens_the_picker_on_it():
    at = open_component(_picker, [1, 2, 3], kept=2)
    assert at.radio[0].value == 2
