"""components/permission_gate.py decides with the database's current role, like the services."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.models import AuditEvent, Role
from portal.permissions import Action
from tests.factories import create_user

pytestmark = pytest.mark.usefixtures("app_env")


def _gate(user_id: int, believed_role: str, action: str, category: str | None) -> None:
    import streamlit as st

    from components.permission_gate import can, require_page_permission
    from db.engine import session_scope
    from db.models import User

    with session_scope() as session:
        user = session.get(User, user_id)
    user.role = believed_role  # what a page opened before a role change still holds
    st.text(f"can: {can(user, action)}")
    if category is None:
        require_page_permission(user, action)
    else:
        require_page_permission(user, action, category=category)
    st.text("past the gate")


def _run(user, believed: Role, action: Action, category: str | None = None) -> AppTest:
    at = AppTest.from_function(
        _gate, args=(user.id, str(believed), str(action), category), default_timeout=30
    )
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_demoted_account_is_not_offered_the_control_nor_let_past_the_gate(session):
    demoted = create_user(session, Role.FRONT_DESK, username="was_doctor")
    at = _run(demoted, Role.CLINICIAN, Action.DECIDE_REFILLS, category="refills")
    assert [t.value for t in at.text] == ["can: False"]
    assert [e.value for e in at.error] == [
        "Only a clinician can approve, deny or close a refill request."
    ]
    refusal = session.exec(select(AuditEvent)).one()
    assert (refusal.category, refusal.outcome) == ("refills", "denied")


def test_a_holder_of_the_action_gets_the_control_and_the_page(session):
    doctor = create_user(session, Role.CLINICIAN, username="doc")
    at = _run(doctor, Role.CLINICIAN, Action.DECIDE_REFILLS)
    assert [t.value for t in at.text] == ["can: True", "past the gate"]
    assert not at.error
