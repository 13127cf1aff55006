"""A small synthetic clinic as FHIR R4 JSON: every synced resource type, deterministic ids."""

from collections.abc import Iterator

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Resource types per patient, beyond the Patient itself.
PER_PATIENT = {
    "Condition": 1,
    "MedicationRequest": 1,
    "AllergyIntolerance": 1,
    "Immunization": 1,
    "Encounter": 1,
    "Observation": 3,
    "DiagnosticReport": 1,
    "Appointment": 1,
    "DocumentReference": 1,
    "ServiceRequest": 1,
    "Procedure": 1,
    "CarePlan": 1,
    "Goal": 1,
    "Device": 1,
    "ImagingStudy": 1,
}
PRACTITIONERS = 2
# Shared by everyone: one clinic and its site, named on the visits.
PLACES = {"Organization": 1, "Location": 1}


def concept(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def practitioner(n: int) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": f"dr-{n}",
        "name": [{"prefix": ["Dr."], "given": [f"Ana{n}"], "family": "Ruiz", "suffix": ["MD"]}],
    }


def organization() -> dict:
    return {
        "resourceType": "Organization",
        "id": "org-0",
        "name": "Riverside Family Clinic",
        "type": [
            concept(
                "http://terminology.hl7.org/CodeSystem/organization-type",
                "prov",
                "Healthcare Provider",
            )
        ],
        "telecom": [{"system": "phone", "value": "555-0100"}],
    }


def location() -> dict:
    return {
        "resourceType": "Location",
        "id": "loc-0",
        "status": "active",
        "name": "Riverside Main Street",
        "address": {"line": ["1 Main St"], "city": "Springfield", "state": "MA"},
        "managingOrganization": {"reference": "Organization/org-0"},
    }


def patient(n: int) -> dict:
    return {
        "resourceType": "Patient",
        "id": f"pat-{n}",
        "identifier": [
            {
                "type": {"coding": [{"code": "MR"}]},
                "system": "urn:clinic:mrn",
                "value": f"MRN{n:05d}",
            }
        ],
        "name": [{"given": [f"Given{n}"], "family": f"Family{n}"}],
        "gender": "female" if n % 2 else "male",
        "birthDate": f"19{50 + n % 50:02d}-0{1 + n % 9}-15",
        "generalPractitioner": [{"reference": f"Practitioner/dr-{n % PRACTITIONERS}"}],
    }


def glucose(n: int, k: int) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"obs-{n}-{k}",
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": "laboratory"}]}],
        "code": concept(LOINC, "2345-7", "Glucose"),
        "subject": {"reference": f"Patient/pat-{n}"},
        "effectiveDateTime": f"2026-0{1 + k}-10T09:00:00Z",
        "valueQuantity": {"value": 90 + n + k, "unit": "mg/dL"},
        "referenceRange": [{"low": {"value": 70}, "high": {"value": 99}}],
    }


def clinical(n: int) -> Iterator[dict]:
    subject = {"reference": f"Patient/pat-{n}"}
    doctor = {"reference": f"Practitioner/dr-{n % PRACTITIONERS}"}
    yield {
        "resourceType": "Condition",
        "id": f"cond-{n}",
        "clinicalStatus": concept(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
        ),
        "code": concept(SNOMED, "44054006", "Diabetes mellitus type 2"),
        "subject": subject,
        "onsetDateTime": "2020-03-01",
    }
    yield {
        "resourceType": "MedicationRequest",
        "id": f"med-{n}",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": concept(RXNORM, "860975", "Metformin 500 MG"),
        "subject": subject,
        "requester": doctor,
        "authoredOn": "2026-01-05T10:00:00Z",
        "dosageInstruction": [{"text": "1 tablet twice daily"}],
    }
    yield {
        "resourceType": "AllergyIntolerance",
        "id": f"alg-{n}",
        "patient": subject,
        "code": concept(RXNORM, "7980", "Penicillin G"),
        "criticality": "high",
    }
    yield {
        "resourceType": "Immunization",
        "id": f"imm-{n}",
        "status": "completed",
        "vaccineCode": concept(CVX, "140", "Influenza, seasonal"),
        "patient": subject,
        "occurrenceDateTime": "2025-10-01T10:00:00Z",
    }
    yield {
        "resourceType": "Encounter",
        "id": f"enc-{n}",
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "subject": subject,
        "participant": [{"individual": doctor}],
        "period": {"start": "2026-01-05T09:30:00Z", "end": "2026-01-05T10:00:00Z"},
        "serviceProvider": {"reference": "Organization/org-0"},
        "location": [{"location": {"reference": "Location/loc-0"}}],
    }
    for k in range(PER_PATIENT["Observation"]):
        yield glucose(n, k)
    yield {
        "resourceType": "DiagnosticReport",
        "id": f"rep-{n}",
        "status": "final",
        "code": concept(LOINC, "24323-8", "Metabolic panel"),
        "subject": subject,
        "effectiveDateTime": "2026-01-10T09:00:00Z",
        "result": [{"reference": f"Observation/obs-{n}-0"}],
    }
    yield {
        "resourceType": "Appointment",
        "id": f"appt-{n}",
        "status": "booked",
        "start": "2026-12-01T14:00:00Z",
        "end": "2026-12-01T14:30:00Z",
        "participant": [
            {"actor": subject, "status": "accepted"},
            {"actor": doctor, "status": "accepted"},
        ],
    }
    yield {
        "resourceType": "DocumentReference",
        "id": f"doc-{n}",
        "status": "current",
        "type": concept(LOINC, "11506-3", "Progress note"),
        "subject": subject,
        "date": "2026-01-05T10:00:00Z",
        "content": [{"attachment": {"contentType": "text/plain", "title": "Visit note"}}],
    }
    yield {
        "resourceType": "ServiceRequest",
        "id": f"ref-{n}",
        "status": "active",
        "intent": "order",
        "code": concept(SNOMED, "306206005", "Referral to service"),
        "subject": subject,
        "requester": doctor,
        "authoredOn": "2026-01-05T10:00:00Z",
        "performerType": {"text": "Endocrinology"},
        "reasonCode": [{"text": "Diabetes review"}],
    }


def whole_record(n: int) -> Iterator[dict]:
    """Beyond the visit: a procedure, a care plan with its goal, a device, an imaging study."""
    subject = {"reference": f"Patient/pat-{n}"}
    yield {
        "resourceType": "Procedure",
        "id": f"proc-{n}",
        "status": "completed",
        "code": concept(SNOMED, "73761001", "Colonoscopy"),
        "subject": subject,
        "performedPeriod": {"start": "2021-04-02T09:00:00Z", "end": "2021-04-02T10:00:00Z"},
        "location": {"reference": "Location/loc-0"},
    }
    yield {
        "resourceType": "Goal",
        "id": f"goal-{n}",
        "lifecycleStatus": "active",
        "description": {"text": "Hemoglobin A1c below 7%"},
        "subject": subject,
        "target": [
            {
                "measure": concept(LOINC, "4548-4", "Hemoglobin A1c"),
                "detailQuantity": {"value": 7, "comparator": "<", "unit": "%"},
                "dueDate": "2026-12-31",
            }
        ],
    }
    yield {
        "resourceType": "CarePlan",
        "id": f"plan-{n}",
        "status": "active",
        "intent": "plan",
        "category": [concept(SNOMED, "698360004", "Diabetes self management plan")],
        "subject": subject,
        "period": {"start": "2020-03-01"},
        "goal": [{"reference": f"Goal/goal-{n}"}],
        "activity": [
            {
                "detail": {
                    "status": "in-progress",
                    "code": concept(SNOMED, "160670007", "Diabetic diet"),
                }
            }
        ],
    }
    yield {
        "resourceType": "Device",
        "id": f"dev-{n}",
        "status": "active",
        "type": concept(SNOMED, "337414009", "Blood glucose meter"),
        "patient": subject,
    }
    yield {
        "resourceType": "ImagingStudy",
        "id": f"img-{n}",
        "status": "available",
        "subject": subject,
        "started": "2024-06-01T10:00:00Z",
        "numberOfSeries": 1,
        "numberOfInstances": 2,
        "series": [
            {
                "uid": f"1.2.3.{n}",
                "modality": {
                    "system": "http://dicom.nema.org/resources/ontology/DCM",
                    "code": "DX",
                    "display": "Digital Radiography",
                },
                "bodySite": {"system": SNOMED, "code": "51185008", "display": "Chest"},
            }
        ],
    }


def clinic(patients: int) -> list[dict]:
    """Practitioners and places, then each patient followed by their record."""
    resources = [practitioner(n) for n in range(PRACTITIONERS)] + [organization(), location()]
    for n in range(patients):
        resources.append(patient(n))
        resources.extend(clinical(n))
        resources.extend(whole_record(n))
    return resources


def expected_counts(patients: int) -> dict[str, int]:
    counts = {"Practitioner": PRACTITIONERS, "Patient": patients, **PLACES}
    counts.update({rtype: per * patients for rtype, per in PER_PATIENT.items()})
    return counts
