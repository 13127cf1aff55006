from datetime import date, timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent, Role
from portal.errors import NotFound, NotYourRecord
from portal.services.records import health_summary, home_overview
from tests.factories import (
    create_observation,
    create_patient,
    create_practitioner,
    create_user,
    grant_proxy,
)
from tests.factories_records import (
    create_allergy,
    create_appointment,
    create_condition,
    create_document,
    create_encounter,
    create_immunization,
    create_medication,
    create_vital,
)


def _audit(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_home_shows_upcoming_visits_with_practitioner_soonest_first(session, now):
    alice = create_patient(session)
    doctor = create_practitioner(session, name="Dr. Rivera")
    later = create_appointment(
        session, alice, start=now + timedelta(days=9), practitioner_id=doctor.id
    )
    sooner = create_appointment(session, alice, start=now + timedelta(days=2), status="pending")
    create_appointment(session, alice, start=now - timedelta(days=1))  # past
    create_appointment(session, alice, start=now + timedelta(days=3), status="cancelled")
    create_appointment(session, create_patient(session), start=now + timedelta(days=1))
    user = create_user(session, Role.PATIENT, patient=alice)
    overview = home_overview(user, alice.id, session=session, now=now)
    assert [(v.appointment_id, v.practitioner_name) for v in overview.upcoming_visits] == [
        (sooner.id, ""),
        (later.id, "Dr. Rivera"),
    ]


def test_home_shows_lab_results_of_the_last_30_days_flagged(session, now):
    alice = create_patient(session)
    create_observation(session, alice, value=7.0, effective_at=now - timedelta(days=3))
    create_observation(session, alice, value=5.0, effective_at=now - timedelta(days=20))
    create_observation(session, alice, value=5.1, effective_at=now - timedelta(days=31))
    create_vital(session, alice, effective_at=now - timedelta(days=1))
    user = create_user(session, Role.PATIENT, patient=alice)
    overview = home_overview(user, alice.id, session=session, now=now)
    assert [(r.value, r.abnormal) for r in overview.new_results] == [(7.0, True), (5.0, False)]
    assert overview.abnormal_result_count == 1


def test_home_lists_only_active_medications(session, now):
    alice = create_patient(session)
    create_medication(session, alice, display="Metformin")
    create_medication(session, alice, display="Amoxicillin", status="completed")
    user = create_user(session, Role.PATIENT, patient=alice)
    overview = home_overview(user, alice.id, session=session, now=now)
    assert [m.name for m in overview.active_medications] == ["Metformin"]
    assert overview.patient_name == alice.display_name
    assert [(e.category, e.patient_id, e.outcome) for e in _audit(session)] == [
        ("viewed home overview", alice.id, "success")
    ]


def test_patient_cannot_open_another_patients_home_or_summary(session, now):
    alice, bob = create_patient(session), create_patient(session)
    user = create_user(session, Role.PATIENT, patient=alice)
    with pytest.raises(NotYourRecord):
        home_overview(user, bob.id, session=session, now=now)
    with pytest.raises(NotYourRecord):
        health_summary(user, bob.id, session=session, now=now)
    session.rollback()
    assert [(e.category, e.outcome) for e in _audit(session)] == [
        ("viewed home overview", "denied"),
        ("viewed health summary", "denied"),
    ]


def test_health_summary_has_every_section(session, now):
    alice = create_patient(
        session, given_name="Alice", family_name="Ng", phone="555-0100", language="en"
    )
    doctor = create_practitioner(session, name="Dr. Rivera")
    alice.primary_practitioner_id = doctor.id
    session.add(alice)
    session.commit()
    create_condition(session, alice, display="Asthma", clinical_status="resolved")
    create_condition(session, alice, display="Hypertension", onset_date=date(2019, 1, 1))
    create_condition(session, alice, display="Diabetes", onset_date=date(2021, 1, 1))
    create_condition(session, alice, display="Withdrawn", clinical_status="entered-in-error")
    create_medication(session, alice, display="Lisinopril")
    create_medication(session, alice, display="Amoxicillin", status="stopped")
    create_allergy(session, alice, display="Peanut")
    create_immunization(session, alice, display="Flu 2024", occurrence=now - timedelta(days=400))
    create_immunization(session, alice, display="Flu 2025", occurrence=now - timedelta(days=40))
    old = create_encounter(session, alice, start=now - timedelta(days=300))
    new = create_encounter(session, alice, start=now - timedelta(days=3), practitioner_id=doctor.id)
    create_document(session, alice, title="Discharge letter")
    other = create_patient(session)
    create_condition(session, other, display="Not Alice's")

    user = create_user(session, Role.PATIENT, patient=alice)
    summary = health_summary(user, alice.id, session=session, now=now)

    demographics = summary.demographics
    assert (demographics.name, demographics.phone, demographics.primary_practitioner) == (
        "Alice Ng",
        "555-0100",
        "Dr. Rivera",
    )
    assert [(p.name, p.active) for p in summary.problems] == [
        ("Diabetes", True),
        ("Hypertension", True),
        ("Asthma", False),
    ]
    assert [m.name for m in summary.active_medications] == ["Lisinopril"]
    assert [(m.name, m.status) for m in summary.past_medications] == [("Amoxicillin", "stopped")]
    assert [a.name for a in summary.allergies] == ["Peanut"]
    assert [i.name for i in summary.immunizations] == ["Flu 2025", "Flu 2024"]
    assert [(v.encounter_id, v.practitioner_name) for v in summary.visits] == [
        (new.id, "Dr. Rivera"),
        (old.id, ""),
    ]
    assert [d.title for d in summary.documents] == ["Discharge letter"]
    assert [(e.category, e.patient_id) for e in _audit(session)] == [
        ("viewed health summary", alice.id)
    ]


def test_health_summary_of_a_patient_with_nothing_recorded_is_empty(session):
    alice = create_patient(session)
    user = create_user(session, Role.PATIENT, patient=alice)
    summary = health_summary(user, alice.id, session=session)
    assert summary.allergies == summary.problems == summary.visits == summary.documents == []


def test_proxy_sees_summary_of_granted_patients_only(session):
    child, other = create_patient(session), create_patient(session)
    parent = create_user(session, Role.PROXY)
    grant_proxy(session, parent, child)
    assert health_summary(parent, child.id, session=session).demographics.patient_id == child.id
    with pytest.raises(NotYourRecord):
        health_summary(parent, other.id, session=session)


def test_staff_reading_a_missing_patient_gets_not_found(session):
    nurse = create_user(session, Role.NURSE)
    with pytest.raises(NotFound):
        health_summary(nurse, 424242, session=session)
