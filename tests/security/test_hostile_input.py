"""Hostile input: SQL-ish search strings match nothing and harm nothing; markup stays text."""

import pytest
from sqlmodel import select

from db.models import Patient, Role
from portal.services import audit_log
from portal.services.patients import search_patients
from tests.factories import create_patient, create_user

SQLISH = ["' OR '1'='1", "'; DROP TABLE patient; --", "%", "_", "\\", "Robert'); --"]


@pytest.mark.parametrize("text", SQLISH)
def test_sqlish_patient_search_finds_nothing_and_breaks_nothing(session, now, text):
    staff = create_user(session, Role.FRONT_DESK)
    create_patient(session, given_name="Ann", family_name="Lee")
    result = search_patients(staff, session=session, name=text, birth_date=None, mrn=text)
    assert result.matches == []
    assert len(session.exec(select(Patient)).all()) == 1


@pytest.mark.parametrize("text", SQLISH)
def test_sqlish_audit_search_finds_nothing(session, now, text):
    admin = create_user(session, Role.ADMIN)
    rows = audit_log.search(
        admin, audit_log.AuditFilter(username=text, category=text), session=session, now=now
    )
    assert rows == []
