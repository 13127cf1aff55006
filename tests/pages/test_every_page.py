"""Every page the navigation offers a role opens for that role: a title, no crash, no refusal."""

import pytest

from db.models import Role
from tests.factories import create_patient, create_user, grant_proxy
from tests.factories_records import create_condition
from tests.harness import goto, menu_paths


def _paths(role: Role) -> list[str]:
    return menu_paths(role)


@pytest.mark.parametrize("role", list(Role))
def test_every_page_of_a_role_opens_for_that_role(open_page, session, role):
    patient = create_patient(session, given_name="Eve", family_name="Evans")
    create_condition(session, patient, display="Hypertension")
    create_user(session, role, patient if role == Role.PATIENT else None, username="who")
    if role == Role.PROXY:
        grant_proxy(session, _user(session), patient)
    paths = _paths(role)
    assert paths, role
    at = open_page("who")
    for path in paths:
        goto(at, path)
        assert not at.exception, (path, at.exception)
        assert at.title, f"{path} drew no title for a {role}"
        assert not at.error, (path, [e.value for e in at.error])


def _user(session):
    from sqlmodel import select

    from db.models import User

    return session.exec(select(User).where(User.username == "who")).one()
