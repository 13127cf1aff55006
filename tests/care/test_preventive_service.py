"""Preventive care from a real record: facts gathered from the database, access, audit, and the
one-click visit request that lands in the triage inbox."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from db.models import AuditEvent, Immunization, Procedure, TriageItem, VisitRequest
from portal.errors import NotFound, NotYourRecord
from portal.services import preventive
from portal.services.preventive import CareStatus
from tests.factories import create_observation
from tests.factories_records import create_condition, create_encounter, create_immunization
from tests.requests.helpers import make_clinic


def by_code(items):
    return {i.rule_code: i for i in items}


def test_facts_come_from_observations_immunizations_encounters_and_conditions(session, now):
    clinic = make_clinic(session)
    alice = clinic.alice
    alice.birth_date = date(1970, 3, 1)  # 56
    session.add(alice)
    session.commit()
    create_condition(session, alice, code="44054006", onset_date=date(2019, 1, 1))
    create_observation(
        session, alice, code="4548-4", effective_at=datetime(2026, 9, 1, 12, tzinfo=UTC)
    )
    # An older A1c and one withdrawn by the lab do not count.
    create_observation(
        session, alice, code="4548-4", effective_at=datetime(2025, 1, 1, 12, tzinfo=UTC)
    )
    create_observation(
        session,
        alice,
        code="4548-4",
        status="entered-in-error",
        effective_at=datetime(2026, 11, 1, 12, tzinfo=UTC),
    )
    create_immunization(
        session, alice, code="150", occurrence=datetime(2026, 10, 2, 15, tzinfo=UTC)
    )
    create_encounter(
        session, alice, type_code="73761001", start=datetime(2020, 5, 5, 14, tzinfo=UTC)
    )

    items = by_code(
        preventive.preventive_care(clinic.alice_user, alice.id, session=session, now=now)
    )

    assert items["a1c"].last_done == date(2026, 9, 1)
    assert items["a1c"].status == CareStatus.UP_TO_DATE
    assert items["influenza"].status == CareStatus.UP_TO_DATE
    assert items["colorectal"].last_done == date(2020, 5, 5)
    assert items["colorectal"].status == CareStatus.UP_TO_DATE
    assert items["diabetic_eye"].status == CareStatus.OVERDUE
    assert items["mammography"].status == CareStatus.OVERDUE
    assert "pneumococcal" not in items
    event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.category, event.patient_id, event.user_id) == (
        preventive.VIEWED_PREVENTIVE,
        alice.id,
        clinic.alice_user.id,
    )


def test_patient_cannot_read_other_patients_preventive_care(session, now):
    clinic = make_clinic(session)
    with pytest.raises(NotYourRecord):
        preventive.preventive_care(clinic.bob_user, clinic.alice.id, session=session, now=now)
    # The proxy for Alice may.
    assert preventive.preventive_care(clinic.proxy, clinic.alice.id, session=session, now=now)


def test_one_click_request_goes_to_triage_and_marks_item_requested(session, now):
    clinic = make_clinic(session)
    request = preventive.request_preventive_visit(
        clinic.proxy, clinic.alice.id, "mammography", session=session, now=now
    )
    assert request.reason == "Preventive care: Breast cancer screening (mammogram)"
    assert request.visit_type == "annual"
    item = session.exec(select(TriageItem).where(TriageItem.ref_id == request.id)).one()
    assert (item.kind, item.patient_id) == ("visit_request", clinic.alice.id)

    items = by_code(
        preventive.preventive_care(clinic.alice_user, clinic.alice.id, session=session, now=now)
    )
    assert items["mammography"].requested is True
    assert items["cervical"].requested is False


def test_request_for_unknown_item_or_other_patient_is_refused(session, now):
    clinic = make_clinic(session)
    with pytest.raises(NotFound):
        preventive.request_preventive_visit(
            clinic.alice_user, clinic.alice.id, "nope", session=session, now=now
        )
    with pytest.raises(NotYourRecord):
        preventive.request_preventive_visit(
            clinic.bob_user, clinic.alice.id, "lipids", session=session, now=now
        )
    assert session.exec(select(VisitRequest)).all() == []


def test_procedures_and_vaccines_given_elsewhere_count_and_are_named(session, now):
    """A record with screenings only as Procedures and a flu shot reported from a pharmacy."""
    clinic = make_clinic(session)
    alice = clinic.alice
    alice.birth_date = date(1970, 3, 1)  # 56
    session.add(alice)
    session.add(
        Procedure(
            patient_id=alice.id,
            fhir_id="proc-colo",
            status="completed",
            code="73761001",
            display="Colonoscopy (procedure)",
            performed_start=datetime(2021, 4, 2, 14, tzinfo=UTC),
        )
    )
    session.add(
        Procedure(  # not done: does not count
            patient_id=alice.id,
            fhir_id="proc-mammo",
            status="not-done",
            code="71651007",
            display="Mammography",
            performed_start=datetime(2026, 1, 2, 14, tzinfo=UTC),
        )
    )
    session.add(
        Immunization(
            patient_id=alice.id,
            fhir_id="imm-pharmacy",
            status="completed",
            code="140",
            display="Influenza, seasonal",
            occurrence=datetime(2026, 10, 2, 15, tzinfo=UTC),
            primary_source=False,
        )
    )
    session.commit()

    items = by_code(
        preventive.preventive_care(clinic.alice_user, alice.id, session=session, now=now)
    )

    assert items["colorectal"].status == CareStatus.UP_TO_DATE
    assert items["colorectal"].evidence == "Colonoscopy (procedure), 2 Apr 2021"
    assert items["mammography"].status == CareStatus.OVERDUE
    assert items["influenza"].status == CareStatus.UP_TO_DATE
    assert items["influenza"].evidence.startswith(
        "Influenza, seasonal (given elsewhere) (vaccine record)"
    )
