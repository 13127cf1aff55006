"""Readers of the rest of the record: procedures, devices, imaging, social history and the care
plan. Access is checked, every read is audited, withdrawn entries are never shown."""

import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from db.models import (
    AuditEvent,
    CareGoal,
    CarePlan,
    Device,
    Encounter,
    HealthGoal,
    ImagingStudy,
    Location,
    Observation,
    Organization,
    Procedure,
)
from portal.errors import NotYourRecord
from portal.services import care_record, records
from tests.requests.helpers import make_clinic

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)


def seed_record(session, patient) -> None:
    site = Location(fhir_id="loc-1", name="Riverside Main Street")
    session.add(site)
    session.commit()
    session.add_all(
        [
            Procedure(
                patient_id=patient.id,
                fhir_id="p-transplant",
                status="completed",
                code="88039007",
                display="Transplant of lung (procedure)",
                performed_start=datetime(2019, 5, 2, tzinfo=UTC),
                location_id=site.id,
            ),
            Procedure(
                patient_id=patient.id,
                fhir_id="p-review",
                status="completed",
                code="430193006",
                display="Medication reconciliation (procedure)",
                performed_start=datetime(2024, 1, 2, tzinfo=UTC),
            ),
            Procedure(
                patient_id=patient.id,
                fhir_id="p-referral",
                status="completed",
                display="Referral to transplant surgeon (procedure)",
                performed_start=datetime(2018, 1, 2, tzinfo=UTC),
            ),
            Procedure(
                patient_id=patient.id,
                fhir_id="p-withdrawn",
                status="entered-in-error",
                display="Appendectomy",
            ),
            Device(patient_id=patient.id, fhir_id="d-1", status="active", display="Pacemaker"),
            Device(patient_id=patient.id, fhir_id="d-2", status="entered-in-error", display="X"),
            ImagingStudy(
                patient_id=patient.id,
                fhir_id="i-1",
                status="available",
                modality="Digital Radiography",
                started=datetime(2024, 6, 1, tzinfo=UTC),
                instance_count=2,
            ),
            ImagingStudy(patient_id=patient.id, fhir_id="i-2", status="cancelled"),
            Observation(
                patient_id=patient.id,
                fhir_id="o-smoke",
                category="social-history",
                code="72166-2",
                display="Tobacco smoking status",
                value_string="Never smoked tobacco (finding)",
                effective_at=datetime(2025, 1, 1, tzinfo=UTC),
            ),
            Observation(
                patient_id=patient.id,
                fhir_id="o-phq",
                category="survey",
                code="44261-6",
                display="PHQ-9 total score",
                value=4,
                unit="{score}",
                effective_at=datetime(2025, 1, 1, tzinfo=UTC),
            ),
            Observation(
                patient_id=patient.id,
                fhir_id="o-lab",
                category="laboratory",
                code="2345-7",
                display="Glucose",
                value=90,
            ),
        ]
    )
    session.commit()


def test_history_lists_procedures_devices_imaging_and_sections_without_withdrawn(session):
    clinic = make_clinic(session)
    seed_record(session, clinic.alice)

    history = care_record.health_history(
        clinic.alice_user, clinic.alice.id, session=session, now=NOW
    )

    assert [p.name for p in history.procedures] == [
        "Medication reconciliation",
        "Transplant of lung",
        "Referral to transplant surgeon",
    ]
    assert [p.name for p in history.surgical_history] == ["Transplant of lung"]
    assert history.surgical_history[0].place == "Riverside Main Street"
    assert [d.name for d in history.devices] == ["Pacemaker"]
    assert [(s.modality, s.images) for s in history.imaging] == [("Digital Radiography", 2)]
    assert [(e.name, e.value) for e in history.sections["Social history"]] == [
        ("Tobacco smoking status", "Never smoked tobacco")
    ]
    assert [(e.name, e.value, e.unit) for e in history.sections["Questionnaires and scores"]] == [
        ("PHQ-9 total score", "4", "{score}")
    ]
    assert history.sections["Exam findings"] == []


def test_history_of_another_patient_is_refused_and_each_read_is_audited(session):
    clinic = make_clinic(session)
    seed_record(session, clinic.alice)

    with pytest.raises(NotYourRecord):
        care_record.health_history(clinic.bob_user, clinic.alice.id, session=session, now=NOW)
    with pytest.raises(NotYourRecord):
        care_record.care_plan(clinic.bob_user, clinic.alice.id, session=session, now=NOW)
    care_record.health_history(clinic.proxy, clinic.alice.id, session=session, now=NOW)

    events = session.exec(
        select(AuditEvent.user_id, AuditEvent.category, AuditEvent.outcome).where(
            AuditEvent.patient_id == clinic.alice.id
        )
    ).all()
    assert (clinic.proxy.id, care_record.VIEWED_HISTORY, "success") in events
    refusals = [e for e in events if e[0] == clinic.bob_user.id]
    assert len(refusals) == 2 and all(e[2] != "success" for e in refusals)


def test_care_plan_has_activities_goals_with_targets_and_the_patients_own_goals(session):
    clinic = make_clinic(session)
    alice = clinic.alice
    session.add(
        CareGoal(
            patient_id=alice.id,
            fhir_id="g-a1c",
            lifecycle_status="active",
            description="Hemoglobin A1c below 7%",
            start_date=date(2022, 1, 12),
            targets_json=json.dumps([{"measure": "Hemoglobin A1c", "target": "<7 %", "due": ""}]),
            expressed_by="Dr. Ana Ruiz",
        )
    )
    session.add(
        CareGoal(patient_id=alice.id, fhir_id="g-gone", lifecycle_status="entered-in-error")
    )
    session.add_all(
        [
            CarePlan(
                patient_id=alice.id,
                fhir_id="cp-old",
                status="completed",
                title="Respiratory therapy (procedure)",
                period_start=datetime(1990, 1, 1, tzinfo=UTC),
            ),
            CarePlan(
                patient_id=alice.id,
                fhir_id="cp-diabetes",
                status="active",
                title="Diabetes self management plan",
                period_start=datetime(2022, 1, 12, tzinfo=UTC),
                activities_json=json.dumps(
                    [
                        {
                            "what": "Diabetic diet (regime/therapy)",
                            "status": "in-progress",
                            "when": "",
                            "detail": "",
                        }
                    ]
                ),
                goal_fhir_ids=json.dumps(["g-a1c", "g-unknown"]),
            ),
        ]
    )
    session.add(HealthGoal(patient_id=alice.id, kind="steps_per_day", target=8000, unit="steps"))
    session.commit()

    view = care_record.care_plan(clinic.alice_user, alice.id, session=session, now=NOW)

    assert [p.title for p in view.plans] == ["Diabetes self management plan", "Respiratory therapy"]
    active = view.plans[0]
    assert [(a.what, a.status) for a in active.activities] == [("Diabetic diet", "in-progress")]
    [goal] = view.goals
    assert (goal.description, goal.set_by) == ("Hemoglobin A1c below 7%", "Dr. Ana Ruiz")
    assert [(t.measure, t.target) for t in goal.targets] == [("Hemoglobin A1c", "<7 %")]
    assert active.goal_ids == [goal.goal_id]
    assert [g.goal.kind for g in view.own_goals] == ["steps_per_day"]
    audited = session.exec(
        select(AuditEvent.category).where(
            AuditEvent.patient_id == alice.id, AuditEvent.action == "read"
        )
    ).all()
    assert care_record.VIEWED_CARE_PLAN in audited


def test_visits_name_the_place_from_location_else_organization(session):
    clinic = make_clinic(session)
    org = Organization(fhir_id="org-1", name="Riverside Family Clinic")
    site = Location(fhir_id="loc-1", name="Main Street site")
    session.add_all([org, site])
    session.commit()
    session.add_all(
        [
            Encounter(
                patient_id=clinic.alice.id,
                fhir_id="e-1",
                start=datetime(2026, 1, 5, tzinfo=UTC),
                organization_id=org.id,
                location_id=site.id,
            ),
            Encounter(
                patient_id=clinic.alice.id,
                fhir_id="e-2",
                start=datetime(2026, 2, 5, tzinfo=UTC),
                organization_id=org.id,
            ),
        ]
    )
    session.commit()

    summary = records.health_summary(clinic.alice_user, clinic.alice.id, session=session, now=NOW)

    assert [v.place for v in summary.visits] == ["Riverside Family Clinic", "Main Street site"]


@pytest.mark.parametrize(
    ("name", "category_code", "surgical"),
    [
        ("Lung transplant", None, True),
        ("Appendectomy", None, True),
        ("Referral to transplant surgeon", None, False),
        ("Colonoscopy", None, False),
        ("Colonoscopy", "387713003", True),
    ],
)
def test_surgical_history_from_category_else_the_name(name, category_code, surgical):
    assert care_record.is_surgical(category_code, "", name) is surgical
