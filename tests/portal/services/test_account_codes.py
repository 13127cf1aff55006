"""account_codes.next_code_purpose: the checked way for the code panel to label its button."""

import pytest

from db.models import Role
from portal.errors import NotAllowed
from portal.services import account_codes
from tests.factories import create_patient, create_user


def test_a_patient_without_an_account_gets_an_activation_code_and_one_with_a_reset(session, now):
    staff = create_user(session, Role.FRONT_DESK)
    new = create_patient(session)
    known = create_patient(session)
    create_user(session, Role.PATIENT, known)

    assert account_codes.next_code_purpose(staff, new.id, session=session, now=now) == "activation"
    assert account_codes.next_code_purpose(staff, known.id, session=session, now=now) == "reset"
    purpose, _code = account_codes.issue_code(staff, known.id, session=session, now=now)
    assert purpose == "reset"


def test_only_those_who_issue_codes_may_ask(session, now):
    patient = create_patient(session)
    user = create_user(session, Role.PATIENT, patient)

    with pytest.raises(NotAllowed):
        account_codes.next_code_purpose(user, patient.id, session=session, now=now)
