"""The showcase patient's record beyond visits and results: a past operation and a colonoscopy
(Procedure), a diabetes care plan with its goal (CarePlan, Goal), a glucose meter (Device) and
smoking status (a social-history Observation), so every Health summary tab has something to show.

Only patient 1 gets these, at fixed times before ``now`` and with no random draws, so the rest of
the demo clinic (and every figure measured on it) stays as it was.
"""

from datetime import datetime, timedelta
from typing import Any

from portal.demo.fhir import LOINC, OBSERVATION_CATEGORY, SNOMED, concept, instant, ref
from portal.demo.people import CLINICIANS


def showcase_whole_record(
    patient: dict[str, str], number: int, now: datetime
) -> list[dict[str, Any]]:
    def fhir_id(kind: str, n: int = 1) -> str:  # the demo's id pattern, kinds of its own
        return f"demo-{kind}-{number:04d}-{n:04d}"

    def years(n: float) -> datetime:
        return now - timedelta(days=round(365.25 * n))

    gp = CLINICIANS[0]  # Dr. Patel, the showcase patient's doctor
    doctor = ref("Practitioner", gp.fhir_id, gp.label)
    goal_id = fhir_id("goal")
    return [
        {
            "resourceType": "Procedure",
            "id": fhir_id("proc", 1),
            "status": "completed",
            "category": concept(SNOMED, "387713003", "Surgical procedure"),
            "code": concept(SNOMED, "80146002", "Appendectomy"),
            "subject": patient,
            "performedDateTime": instant(years(31)),
            "reasonCode": [concept(SNOMED, "74400008", "Appendicitis")],
        },
        {
            "resourceType": "Procedure",
            "id": fhir_id("proc", 2),
            "status": "completed",
            "code": concept(SNOMED, "73761001", "Colonoscopy"),
            "subject": patient,
            "performedDateTime": instant(years(3)),
            "performer": [{"actor": doctor}],
        },
        {
            "resourceType": "Goal",
            "id": goal_id,
            "lifecycleStatus": "active",
            "achievementStatus": concept(
                "http://terminology.hl7.org/CodeSystem/goal-achievement", "improving", "Improving"
            ),
            "description": {"text": "Bring hemoglobin A1c under 7%"},
            "subject": patient,
            "startDate": years(1).date().isoformat(),
            "target": [
                {
                    "measure": concept(LOINC, "4548-4", "Hemoglobin A1c"),
                    "detailQuantity": {"value": 7, "comparator": "<", "unit": "%"},
                    "dueDate": (now + timedelta(days=180)).date().isoformat(),
                }
            ],
            "expressedBy": doctor,
        },
        {
            "resourceType": "CarePlan",
            "id": fhir_id("careplan"),
            "status": "active",
            "intent": "plan",
            "title": "Diabetes self-management",
            "category": [concept(SNOMED, "698360004", "Diabetes self management plan")],
            "subject": patient,
            "period": {"start": instant(years(1))},
            "author": doctor,
            "goal": [ref("Goal", goal_id)],
            "activity": [
                {
                    "detail": {
                        "status": "in-progress",
                        "code": concept(SNOMED, "160670007", "Diabetic diet"),
                    }
                },
                {
                    "detail": {
                        "status": "in-progress",
                        "code": concept(SNOMED, "229065009", "Exercise therapy"),
                        "description": "Walk 30 minutes, 5 days a week",
                    }
                },
                {
                    "detail": {
                        "status": "scheduled",
                        "code": concept(SNOMED, "410451008", "Diabetic retinopathy screening"),
                        "scheduledString": "Within the next year",
                    }
                },
            ],
        },
        {
            "resourceType": "Device",
            "id": fhir_id("device"),
            "status": "active",
            "type": concept(SNOMED, "337414009", "Blood glucose meter"),
            "manufacturer": "Acme Diagnostics",
            "patient": patient,
        },
        {
            "resourceType": "Observation",
            "id": fhir_id("social"),
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "social-history"}]}],
            "code": concept(LOINC, "72166-2", "Tobacco smoking status"),
            "subject": patient,
            "effectiveDateTime": instant(years(1)),
            "valueCodeableConcept": concept(SNOMED, "8517006", "Former smoker"),
        },
    ]
