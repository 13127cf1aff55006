from datetime import date

import pytest
from sqlmodel import select

from db.models import AuditEvent, Role
from portal.errors import InvalidInput, NotAllowed, NotFound
from portal.services.patients import chart_header, name_splits, open_chart, search_patients
from tests.factories import create_patient, create_user


def _audit(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


@pytest.fixture
def clinic(session):
    """Four patients whose names overlap in the ways a lookup must tell apart."""
    return {
        "john": create_patient(
            session, given_name="John", family_name="Smith", birth_date=date(1970, 3, 1)
        ),
        "joan": create_patient(
            session, given_name="Joan", family_name="Smithers", birth_date=date(1985, 7, 9)
        ),
        "anna": create_patient(
            session, given_name="Anna", family_name="van der Berg", mrn="MRN-777"
        ),
        "smith": create_patient(
            session, given_name="Smith", family_name="Jones", birth_date=date(1970, 3, 1)
        ),
    }


def _names(result) -> list[str]:
    return [m.name for m in result.matches]


def test_search_by_family_prefix_is_case_insensitive(session, clinic):
    nurse = create_user(session, Role.NURSE)
    result = search_patients(nurse, session=session, name="SMI")
    # A single word matches family or given names; ordered by family, given.
    assert _names(result) == ["Smith Jones", "John Smith", "Joan Smithers"]
    assert not result.truncated


def test_search_by_family_comma_given(session, clinic):
    nurse = create_user(session, Role.NURSE)
    assert _names(search_patients(nurse, session=session, name="smith, jo")) == [
        "John Smith",
        "Joan Smithers",
    ]
    assert _names(search_patients(nurse, session=session, name="Smithers,Joan")) == [
        "Joan Smithers"
    ]


def test_search_by_given_family_either_order(session, clinic):
    nurse = create_user(session, Role.NURSE)
    assert _names(search_patients(nurse, session=session, name="john smith")) == ["John Smith"]
    assert _names(search_patients(nurse, session=session, name="smith john")) == ["John Smith"]
    assert _names(search_patients(nurse, session=session, name="anna van der")) == [
        "Anna van der Berg"
    ]


def test_search_by_exact_mrn(session, clinic):
    nurse = create_user(session, Role.NURSE)
    assert _names(search_patients(nurse, session=session, mrn=" MRN-777 ")) == ["Anna van der Berg"]
    assert _names(search_patients(nurse, session=session, mrn="MRN-77")) == []


def test_search_by_birth_date_and_name_together(session, clinic):
    nurse = create_user(session, Role.NURSE)
    born = date(1970, 3, 1)
    assert _names(search_patients(nurse, session=session, birth_date=born)) == [
        "Smith Jones",
        "John Smith",
    ]
    assert _names(search_patients(nurse, session=session, birth_date=born, name="jones")) == [
        "Smith Jones"
    ]


def test_search_treats_wildcards_as_plain_characters(session, clinic):
    nurse = create_user(session, Role.NURSE)
    assert _names(search_patients(nurse, session=session, name="%")) == []
    assert _names(search_patients(nurse, session=session, name="sm_th")) == []


def test_search_reports_truncation(session, clinic):
    nurse = create_user(session, Role.NURSE)
    result = search_patients(nurse, session=session, name="smith", limit=2)
    assert len(result.matches) == 2
    assert result.truncated


def test_search_needs_a_criterion(session):
    nurse = create_user(session, Role.NURSE)
    with pytest.raises(InvalidInput):
        search_patients(nurse, session=session, name="  ")
    with pytest.raises(InvalidInput):
        search_patients(nurse, session=session, name=",")


def test_search_is_audited_without_what_was_typed(session, clinic, now):
    nurse = create_user(session, Role.NURSE)
    search_patients(nurse, session=session, name="Smith", mrn="MRN-777", now=now)
    (event,) = _audit(session)
    assert (event.category, event.patient_id, event.outcome, event.at) == (
        "searched patients",
        None,
        "success",
        now,
    )
    assert "smith" not in event.detail.lower()
    assert "777" not in event.detail
    assert event.detail == "by name, MRN; 0 shown"


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROXY])
def test_non_staff_cannot_search(session, clinic, role):
    user = create_user(session, role, patient=clinic["john"] if role == Role.PATIENT else None)
    with pytest.raises(NotAllowed):
        search_patients(user, session=session, name="smith")
    session.rollback()
    assert [(e.category, e.outcome) for e in _audit(session)] == [("searched patients", "denied")]


def test_inactive_staff_cannot_search(session, clinic):
    nurse = create_user(session, Role.NURSE, active=False)
    with pytest.raises(NotAllowed):
        search_patients(nurse, session=session, name="smith")


def test_open_chart_is_audited(session, clinic, now):
    nurse = create_user(session, Role.FRONT_DESK)
    header = open_chart(nurse, clinic["anna"].id, session=session, now=now)
    assert (header.name, header.mrn) == ("Anna van der Berg", "MRN-777")
    (event,) = _audit(session)
    assert (event.category, event.patient_id, event.user_id) == (
        "opened chart",
        clinic["anna"].id,
        nurse.id,
    )


def test_patient_cannot_open_a_chart(session, clinic):
    user = create_user(session, Role.PATIENT, patient=clinic["john"])
    with pytest.raises(NotAllowed):
        open_chart(user, clinic["john"].id, session=session)
    with pytest.raises(NotAllowed):
        chart_header(user, clinic["john"].id, session=session)


def test_open_chart_of_missing_patient(session):
    nurse = create_user(session, Role.NURSE)
    with pytest.raises(NotFound):
        open_chart(nurse, 424242, session=session)


def test_name_splits():
    assert name_splits("  Smith ,  Jo ") == [("smith", "jo")]
    assert name_splits("smith") == [("smith", ""), ("", "smith")]
    assert name_splits("anna van berg") == [
        ("van berg", "anna"),
        ("anna", "van berg"),
        ("berg", "anna van"),
        ("anna van", "berg"),
    ]
    assert name_splits("") == []
