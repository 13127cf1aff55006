"""FHIR R4 resources for one demo patient, built from the timeline and the trend model.

Ids are stable: "demo-<kind>-<patient number>-<counter>", counted in the order the record is
built, so the same seed always yields the same ids and re-importing updates rather than adds.
"""

import base64
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from portal.demo import codes
from portal.demo.fhir import (
    ICD10_CM,
    LOINC,
    OBSERVATION_CATEGORY,
    RXNORM,
    SNOMED,
    coding,
    concept,
    instant,
    interpretation,
    interpretation_concept,
    quantity,
    ref,
    reference_range,
)
from portal.demo.people import Clinician, Person
from portal.demo.timeline import (
    SICK,
    DrugCourse,
    PlannedAppointment,
    ProblemCourse,
    Visit,
)
from portal.demo.trends import Physiology, bmi

CVX = "http://hl7.org/fhir/sid/cvx"
LAB_CATEGORY = [concept(OBSERVATION_CATEGORY, "laboratory", "Laboratory")]
VITALS_CATEGORY = [concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")]
REPORT_CATEGORY = [concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")]
AMBULATORY = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "AMB",
    "display": "ambulatory",
}
PRIMARY_PERFORMER = [
    concept(
        "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer"
    )
]
GENERAL_PRACTICE = concept(
    "http://terminology.hl7.org/CodeSystem/service-type", "124", "General Practice"
)
APPOINTMENT_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0276"
VISIT_TYPE_CODES = {
    "Annual physical": codes.CHECKUP,
    "Well-child visit": codes.WELL_CHILD,
    "Follow-up visit": codes.FOLLOW_UP,
    "Sick visit": codes.SICK_VISIT,
}
APPOINTMENT_TYPES = {
    "Annual physical": ("CHECKUP", "A routine check-up, such as an annual physical"),
    "Well-child visit": ("CHECKUP", "A routine check-up, such as an annual physical"),
    "Follow-up visit": ("FOLLOWUP", "A follow up visit from a previous appointment"),
    "Sick visit": ("WALKIN", "A previously unscheduled walk-in visit"),
}


class PatientRecord:
    """Collects one patient's resources; each method adds one kind and returns its id."""

    def __init__(self, number: int, fhir_id: str, person: Person, body: Physiology, now: datetime):
        self.number = number
        self.patient = ref("Patient", fhir_id, f"{person.given} {person.family}")
        self.person = person
        self.body = body
        self.now = now
        self.resources: list[dict[str, Any]] = []
        self._counters: Counter[str] = Counter()
        self.encounter_ids: dict[Visit, str] = {}
        self.condition_ids: dict[codes.Problem, str] = {}
        # What was measured at each visit, for its written summary.
        self.findings: dict[Visit, list[str]] = {}

    def new_id(self, kind: str) -> str:
        self._counters[kind] += 1
        return f"demo-{kind}-{self.number:04d}-{self._counters[kind]:04d}"

    def _add(self, resource: dict[str, Any]) -> str:
        self.resources.append(resource)
        added: str = resource["id"]
        return added

    # --- problems, medicines, allergies, vaccines ------------------------------------------

    def condition(self, course: ProblemCourse) -> str:
        problem = course.problem
        acute = course.abatement is not None
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": self.new_id("cond"),
            "clinicalStatus": concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "resolved" if acute else "active",
                "Resolved" if acute else "Active",
            ),
            "verificationStatus": concept(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "confirmed",
                "Confirmed",
            ),
            "category": [
                concept(
                    "http://terminology.hl7.org/CodeSystem/condition-category",
                    "encounter-diagnosis" if acute else "problem-list-item",
                    "Encounter Diagnosis" if acute else "Problem List Item",
                )
            ],
            "code": {
                "coding": [
                    coding(SNOMED, problem.snomed, problem.display),
                    coding(ICD10_CM, problem.icd10, problem.icd10_display),
                ],
                "text": problem.display,
            },
            "subject": self.patient,
            "onsetDateTime": instant(course.onset),
            "recordedDate": instant(course.onset),
        }
        if course.visit is not None:
            resource["encounter"] = ref("Encounter", self.encounter_ids[course.visit])
        if course.abatement is not None:
            resource["abatementDateTime"] = instant(min(course.abatement, self.now))
        self.condition_ids[problem] = self._add(resource)
        return self.condition_ids[problem]

    def medication_request(self, drug_course: DrugCourse, reason: codes.Problem) -> str:
        drug = drug_course.drug
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": self.new_id("med"),
            "status": drug_course.status,
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [coding(RXNORM, drug.rxnorm, drug.display)],
                "text": drug.short_name,
            },
            "subject": self.patient,
            "authoredOn": instant(drug_course.start),
            "requester": ref("Practitioner", drug_course.prescriber.fhir_id),
            "reasonReference": [ref("Condition", self.condition_ids[reason])],
            "dosageInstruction": [{"text": drug.dosage}],
        }
        if drug_course.visit is not None:
            resource["encounter"] = ref("Encounter", self.encounter_ids[drug_course.visit])
        if drug_course.status == "stopped":
            resource["statusReason"] = {"text": "Low potassium; switched to amlodipine"}
        if drug_course.end is not None:
            resource["dispenseRequest"] = {
                "validityPeriod": {
                    "start": instant(drug_course.start),
                    "end": instant(drug_course.end),
                }
            }
        return self._add(resource)

    def allergy(self, allergen: codes.Allergen, recorded: datetime) -> str:
        return self._add(
            {
                "resourceType": "AllergyIntolerance",
                "id": self.new_id("alg"),
                "clinicalStatus": concept(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "active",
                    "Active",
                ),
                "verificationStatus": concept(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "confirmed",
                    "Confirmed",
                ),
                "type": "allergy",
                "category": [allergen.category],
                "criticality": allergen.criticality,
                "code": {
                    "coding": [coding(SNOMED, allergen.snomed, allergen.display)],
                    "text": allergen.display,
                },
                "patient": self.patient,
                "recordedDate": instant(recorded),
                "reaction": [
                    {
                        "manifestation": [
                            concept(SNOMED, allergen.reaction_snomed, allergen.reaction_display)
                        ],
                        "severity": "severe" if allergen.criticality == "high" else "mild",
                    }
                ],
            }
        )

    def immunization(self, vaccine: codes.Vaccine, when: datetime, lot: str) -> str:
        return self._add(
            {
                "resourceType": "Immunization",
                "id": self.new_id("imm"),
                "status": "completed",
                "vaccineCode": {
                    "coding": [coding(CVX, vaccine.cvx, vaccine.display)],
                    "text": vaccine.display,
                },
                "patient": self.patient,
                "occurrenceDateTime": instant(when),
                "primarySource": True,
                "lotNumber": lot,
            }
        )

    # --- visits ------------------------------------------------------------------------------

    def encounter(
        self, visit: Visit, reasons: list[codes.Problem], appointment_id: str | None
    ) -> str:
        type_code, type_display = VISIT_TYPE_CODES[visit.kind]
        resource: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": self.new_id("enc"),
            "status": "finished",
            "class": AMBULATORY,
            "type": [concept(SNOMED, type_code, type_display, text=visit.kind)],
            "subject": self.patient,
            "participant": [
                {
                    "type": PRIMARY_PERFORMER,
                    "individual": ref(
                        "Practitioner", visit.clinician.fhir_id, visit.clinician.label
                    ),
                }
            ],
            "period": {"start": instant(visit.start), "end": instant(visit.end)},
            "serviceProvider": {"display": "Riverside Family Clinic"},
        }
        if reasons:
            resource["reasonCode"] = [
                concept(SNOMED, p.snomed, p.display, text=p.display) for p in reasons
            ]
        if appointment_id is not None:
            resource["appointment"] = [ref("Appointment", appointment_id)]
        self.encounter_ids[visit] = self._add(resource)
        return self.encounter_ids[visit]

    def appointment_id(self) -> str:
        return self.new_id("apt")

    def appointment(self, fhir_id: str, planned: PlannedAppointment, created: datetime) -> str:
        type_code, type_display = APPOINTMENT_TYPES[planned.kind]
        clinician: Clinician = planned.clinician
        resource: dict[str, Any] = {
            "resourceType": "Appointment",
            "id": fhir_id,
            "status": planned.status,
            "serviceType": [{**GENERAL_PRACTICE, "text": planned.kind}],
            "appointmentType": concept(APPOINTMENT_TYPE, type_code, type_display),
            "reasonCode": [{"text": planned.reason}],
            "description": f"{planned.kind} with {clinician.label}",
            "start": instant(planned.start),
            "end": instant(planned.start + timedelta(minutes=planned.minutes)),
            "minutesDuration": planned.minutes,
            "created": instant(created),
            "participant": [
                {"actor": self.patient, "required": "required", "status": "accepted"},
                {
                    "actor": ref("Practitioner", clinician.fhir_id, clinician.label),
                    "required": "required",
                    "status": "accepted",
                },
            ],
        }
        if planned.status == "cancelled":
            resource["cancelationReason"] = concept(
                "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason",
                "pat",
                "Patient",
                text="Patient called to cancel",
            )
        return self._add(resource)

    # --- results -----------------------------------------------------------------------------

    def _observation(
        self,
        visit: Visit,
        category: list[dict[str, Any]],
        code: tuple[str, str, str],
        issued: datetime,
    ) -> dict[str, Any]:
        loinc, display, name = code
        return {
            "resourceType": "Observation",
            "id": self.new_id("obs"),
            "status": "final",
            "category": category,
            "code": {"coding": [coding(LOINC, loinc, display)], "text": name},
            "subject": self.patient,
            "encounter": ref("Encounter", self.encounter_ids[visit]),
            "effectiveDateTime": instant(visit.start),
            "issued": instant(issued),
        }

    def _result(self, target: dict[str, Any], test: codes.Test, value: float, ranged: bool) -> str:
        """Put value, range and flag on an Observation (or component); return its summary."""
        target["valueQuantity"] = quantity(value, test.unit, test.ucum)
        low, high = test.reference_range(self.person.sex) if ranged else (None, None)
        flag = "N"
        if low is not None or high is not None:
            target["referenceRange"] = reference_range(low, high, test.unit, test.ucum)
            flag = interpretation(value, low, high)
            target["interpretation"] = interpretation_concept(flag)
        words = {"H": " (high)", "L": " (low)"}.get(flag, "")
        return f"{test.name} {value:g} {test.unit}{words}"

    def vital_signs(self, visit: Visit) -> None:
        body, when = self.body, visit.start
        adult = body.age(when) >= 18
        acute = visit.kind == SICK
        taken = visit.start + timedelta(minutes=5)
        found = self.findings.setdefault(visit, [])
        if body.age(when) >= 3:
            systolic, diastolic = body.blood_pressure(when)
            panel = self._observation(
                visit, VITALS_CATEGORY, (*codes.BP_PANEL, "Blood pressure"), taken
            )
            components = [{"code": concept(LOINC, t.loinc, t.display)} for t in BP_PARTS]
            self._result(components[0], codes.SYSTOLIC, systolic, ranged=body.age(when) >= 13)
            self._result(components[1], codes.DIASTOLIC, diastolic, ranged=body.age(when) >= 13)
            panel["component"] = components
            self._add(panel)
            found.append(f"Blood pressure {systolic:g}/{diastolic:g} mmHg")
        height = round(body.height_cm(when), 1)
        weight = body.weight_kg(when)
        measured = [
            (codes.HEART_RATE, body.heart_rate_bpm(when), adult),
            (codes.RESPIRATORY_RATE, body.respiratory_rate(when), adult),
            (codes.TEMPERATURE, body.temperature_c(acute=acute), True),
            (codes.OXYGEN_SATURATION, body.oxygen_saturation(), True),
            (codes.BODY_WEIGHT, weight, False),
            (codes.BMI, bmi(weight, height), adult),
        ]
        # Adults' height is measured at physicals; children's at every visit (they grow).
        if not adult or visit.kind != "Follow-up visit":
            measured.insert(4, (codes.BODY_HEIGHT, height, False))
        for test, value, ranged in measured:
            resource = self._observation(
                visit, VITALS_CATEGORY, (test.loinc, test.display, test.name), taken
            )
            summary = self._result(resource, test, value, ranged)
            self._add(resource)
            if test in (codes.BODY_WEIGHT, codes.TEMPERATURE, codes.BMI):
                found.append(summary)

    def lab_panel(self, visit: Visit, panel: codes.Panel) -> str:
        """One order: an Observation per test and the DiagnosticReport that groups them."""
        drawn = visit.start + timedelta(minutes=visit.minutes)
        issued = min(self.now, drawn + timedelta(hours=6 + self.number % 20))
        results = []
        abnormal = []
        for test in panel.tests:
            value = self.body.lab(test, drawn, acute=visit.kind == SICK)
            resource = self._observation(
                visit, LAB_CATEGORY, (test.loinc, test.display, test.name), issued
            )
            resource["effectiveDateTime"] = instant(drawn)
            summary = self._result(resource, test, value, ranged=True)
            results.append(self._add(resource))
            self.findings.setdefault(visit, []).append(summary)
            if summary.endswith(")"):
                abnormal.append(summary)
        conclusion = (
            "Outside the reference range: " + "; ".join(abnormal) + "."
            if abnormal
            else "All results within the reference range."
        )
        return self._add(
            {
                "resourceType": "DiagnosticReport",
                "id": self.new_id("rpt"),
                "status": "final",
                "category": REPORT_CATEGORY,
                "code": {
                    "coding": [coding(LOINC, panel.loinc, panel.display)],
                    "text": panel.display.split(" - ")[0],
                },
                "subject": self.patient,
                "encounter": ref("Encounter", self.encounter_ids[visit]),
                "effectiveDateTime": instant(drawn),
                "issued": instant(issued),
                "performer": [{"display": "Riverside Clinic Laboratory"}],
                "result": [ref("Observation", r) for r in results],
                "conclusion": conclusion,
            }
        )

    # --- documents ---------------------------------------------------------------------------

    def visit_summary(self, visit: Visit, problems: list[str], medicines: list[str]) -> str:
        """A plain-text after-visit summary, inline as base64 like many EHRs send them."""
        local_day = visit.start.strftime("%B %d, %Y").replace(" 0", " ")
        lines = [
            "Riverside Family Clinic - after-visit summary",
            f"Patient: {self.person.given} {self.person.family}",
            f"Visit: {visit.kind} on {local_day} with {visit.clinician.label}",
        ]
        if visit.acute is not None:
            lines.append(f"Reason: {visit.acute.display}")
        lines += ["", "What we measured:"]
        lines += [f"  - {item}" for item in self.findings.get(visit, [])]
        if problems:
            lines += ["", "Your health problems we are following:"]
            lines += [f"  - {p}" for p in problems]
        if medicines:
            lines += ["", "Your medicines:"]
            lines += [f"  - {m}" for m in medicines]
        lines += ["", "Questions? Send us a message in the portal.", ""]
        text = "\n".join(lines)
        return self._add(
            {
                "resourceType": "DocumentReference",
                "id": self.new_id("doc"),
                "status": "current",
                "docStatus": "final",
                "type": concept(LOINC, "34133-9", "Summary of episode note", text="Visit summary"),
                "category": [
                    concept(
                        "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "clinical-note",
                        "Clinical Note",
                    )
                ],
                "subject": self.patient,
                "date": instant(visit.end),
                "author": [ref("Practitioner", visit.clinician.fhir_id, visit.clinician.label)],
                "description": f"{visit.kind} summary, {local_day}",
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain; charset=utf-8",
                            "language": "en-US",
                            "data": base64.b64encode(text.encode()).decode(),
                            "title": f"Visit summary {visit.start.date().isoformat()}",
                            "creation": instant(visit.end),
                        }
                    }
                ],
                "context": {
                    "encounter": [ref("Encounter", self.encounter_ids[visit])],
                    "period": {"start": instant(visit.start), "end": instant(visit.end)},
                },
            }
        )


BP_PARTS = (codes.SYSTOLIC, codes.DIASTOLIC)
