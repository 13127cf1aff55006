"""The "Users and roles" page: an administrator finds and manages accounts; nobody else has it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.models import AuditEvent, Role, User
from portal.services import sessions
from tests.factories import create_patient, create_user
from tests.harness import force_page, menu, menu_paths
from tests.pages.conftest import run_ok, table_values

PAGE = "pages/user_admin.py"


def _fresh(session, user_id: int) -> User:
    session.expire_all()
    return session.get(User, user_id)


@pytest.fixture
def people(session):
    admin = create_user(session, Role.ADMIN, username="boss", display_name="Ada Admin")
    nurse = create_user(session, Role.NURSE, username="nina", display_name="Nina Nurse")
    patient = create_patient(session, given_name="Pat", family_name="Ient")
    pat = create_user(session, Role.PATIENT, patient, username="pat", display_name="Pat Ient")
    return admin, nurse, pat


def _open(open_page) -> AppTest:
    return open_page("boss", PAGE)


def _choose(at: AppTest, user: User) -> AppTest:
    at.selectbox(key="user_admin_selected").set_value(user.id)
    return run_ok(at)


def test_admin_sees_the_page_in_navigation_and_the_accounts(open_page, people):
    assert PAGE in menu(Role.ADMIN)["Administration"]
    at = _open(open_page)
    assert at.title[0].value == "Users and roles"
    cells = table_values(at)
    assert {"boss", "nina", "pat", "Pat Ient", "Nurse", "never"} <= set(cells)
    assert not at.error


def test_search_narrows_the_table(open_page, people):
    at = _open(open_page)
    at.text_input[0].input("nurse")
    run_ok(at)
    cells = table_values(at)
    assert "nina" in cells and "pat" not in cells and "boss" not in cells
    at.text_input[0].input("zzz-nobody")
    run_ok(at)
    assert len(at.dataframe) == 0
    assert any("No accounts match" in i.value for i in at.info)


def test_change_role_needs_the_confirmation_and_then_works(open_page, session, people):
    _, nurse, _ = people
    at = _choose(_open(open_page), nurse)
    button = at.button(key=f"ua_role_btn_{nurse.id}")
    assert button.disabled
    at.selectbox(key=f"ua_new_role_{nurse.id}").set_value(Role.CLINICIAN)
    at.checkbox(key=f"ua_role_ok_{nurse.id}").check()
    run_ok(at)
    at.button(key=f"ua_role_btn_{nurse.id}").click()
    run_ok(at)
    assert not at.exception and not at.error
    assert any("nina is now Clinician" in s.value for s in at.success)
    assert _fresh(session, nurse.id).role == Role.CLINICIAN
    # The confirmation does not carry over to a next change.
    assert not at.checkbox(key=f"ua_role_ok_{nurse.id}").value
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "change role")).one()
    assert event.username == "boss" and event.outcome == "success"


def test_a_patient_account_offers_no_staff_role(open_page, people):
    _, _, pat = people
    at = _choose(_open(open_page), pat)
    assert any("linked to a patient record" in c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Change role"]


def test_deactivate_own_account_is_refused_in_plain_words(open_page, session, people):
    admin, _, _ = people
    at = _choose(_open(open_page), admin)
    at.checkbox(key=f"ua_deact_ok_{admin.id}").check()
    run_ok(at)
    at.button(key=f"ua_deact_btn_{admin.id}").click()
    run_ok(at)
    assert [e.value for e in at.error] == ["You cannot deactivate your own account."]
    assert _fresh(session, admin.id).active


def test_deactivate_and_reactivate_a_nurse(open_page, session, people):
    _, nurse, _ = people
    at = _choose(_open(open_page), nurse)
    at.checkbox(key=f"ua_deact_ok_{nurse.id}").check()
    run_ok(at)
    at.button(key=f"ua_deact_btn_{nurse.id}").click()
    run_ok(at)
    assert any("nina is deactivated" in s.value for s in at.success)
    assert not _fresh(session, nurse.id).active
    at.button(key=f"ua_react_btn_{nurse.id}").click()
    run_ok(at)
    assert any("can sign in again" in s.value for s in at.success)
    assert _fresh(session, nurse.id).active


def test_create_staff_account_shows_the_code_once(open_page, session, people):
    at = _open(open_page)
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Username"].input("newdoc")
    form_inputs["Name"].input("New Doctor")
    [role] = [s for s in at.selectbox if s.label == "Role"]
    role.set_value(Role.CLINICIAN)
    [b for b in at.button if b.label == "Create account"][0].click()
    run_ok(at)
    assert any("Account newdoc created." in s.value for s in at.success)
    assert len(at.code) == 1 and len(at.code[0].value) == 14
    created = session.exec(select(User).where(User.username == "newdoc")).one()
    assert created.role == Role.CLINICIAN
    run_ok(at)
    assert len(at.code) == 0  # shown only once


def test_create_staff_account_with_a_taken_username(open_page, people):
    at = _open(open_page)
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Username"].input("nina")
    form_inputs["Name"].input("Someone")
    [b for b in at.button if b.label == "Create account"][0].click()
    run_ok(at)
    assert [e.value for e in at.error] == ["That username is taken; please choose another."]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_other_roles_have_no_such_page(app_env, session, role):
    paths = set(menu_paths(role))
    assert PAGE not in paths
    patient = create_patient(session)
    create_user(session, role, patient if role == Role.PATIENT else None, username="who")
    create_user(session, Role.NURSE, username="nina")
    # Even opened directly, the page refuses and shows no account.
    at = force_page("who", PAGE)
    assert [e.value for e in at.error] == ["Only administrators can manage users and roles."]
    assert len(at.dataframe) == 0
    denied = session.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert [e.username for e in denied] == ["who"]


def test_unlock_end_sessions_reset_mfa_and_code_for_a_staff_member(open_page, session, people, now):
    _, nurse, _ = people
    nurse.locked_until = datetime.now(UTC) + timedelta(minutes=10)
    nurse.mfa_secret = "JBSWY3DPEHPK3PXP"
    nurse.mfa_enabled_at = now
    session.add(nurse)
    session.commit()
    sessions.start(nurse, session=session, now=datetime.now(UTC), method="password")
    at = _choose(_open(open_page), nurse)

    at.button(key=f"ua_unlock_btn_{nurse.id}").click()
    run_ok(at)
    assert any("nina is unlocked" in s.value for s in at.success)
    assert _fresh(session, nurse.id).locked_until is None

    assert at.button(key=f"ua_signout_btn_{nurse.id}").disabled
    at.checkbox(key=f"ua_signout_ok_{nurse.id}").check()
    run_ok(at)
    at.button(key=f"ua_signout_btn_{nurse.id}").click()
    run_ok(at)
    assert any("signed out everywhere (1 open sessions)" in s.value for s in at.success)

    at.checkbox(key=f"ua_mfa_ok_{nurse.id}").check()
    run_ok(at)
    at.button(key=f"ua_mfa_btn_{nurse.id}").click()
    run_ok(at)
    assert any("set it up again" in s.value for s in at.success)
    assert _fresh(session, nurse.id).mfa_secret is None

    at.button(key=f"ua_code_btn_{nurse.id}").click()
    run_ok(at)
    assert len(at.code) == 1 and any("one-time code to nina" in s.value for s in at.success)
    assert not at.error


def test_a_search_that_hides_the_chosen_account_does_not_break_the_page(open_page, people):
    _, nurse, pat = people
    at = _choose(_open(open_page), nurse)
    assert at.subheader[0].value == "nina"
    at.text_input[0].input("pat")
    run_ok(at)
    assert not at.error
    assert all(s.value != "nina" for s in at.subheader)
    _choose(at, pat)
    assert at.subheader[0].value == "pat"
