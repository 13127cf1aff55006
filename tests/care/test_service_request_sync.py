"""ServiceRequest (referrals) from the EHR: the mapper, and an import that links the rows."""

from datetime import UTC, datetime

from sqlmodel import select

from db.models import Practitioner, ServiceRequest
from ehr_sync import import_bundle
from ehr_sync.mappers import MAPPINGS, Ref, map_resource
from ehr_sync.parsing import parse_resource
from ehr_sync.sync import SYNC_TYPES
from tests.ehr_sync.fhir_json import bundle, load, patient

SNOMED = "http://snomed.info/sct"


def referral(fhir_id: str = "sr-1", **changes) -> dict:
    resource = {
        "resourceType": "ServiceRequest",
        "id": fhir_id,
        "meta": {"versionId": "3", "lastUpdated": "2026-10-01T12:00:00Z"},
        "status": "active",
        "intent": "order",
        "code": {
            "coding": [{"system": SNOMED, "code": "306206005", "display": "Referral to service"}]
        },
        "subject": {"reference": "Patient/pat-lee"},
        "authoredOn": "2026-10-01T09:30:00-04:00",
        "occurrencePeriod": {"start": "2026-11-03T14:00:00Z"},
        "requester": {"reference": "Practitioner/prac-ruiz"},
        "performerType": {"text": "Cardiology"},
        "performer": [{"display": "Dr. Heart, Valley Cardiology"}],
        "reasonCode": [{"text": "Palpitations"}, {"text": "Chest pain"}],
    }
    return {**resource, **changes}


def test_service_request_is_mapped_and_synced():
    assert "ServiceRequest" in MAPPINGS
    assert "ServiceRequest" in SYNC_TYPES


def test_service_request_maps_specialty_performer_reason_and_dates():
    [row] = map_resource(parse_resource(referral()))
    assert row["fhir_id"] == "sr-1"
    assert row["patient_id"] == Ref("Patient", "Patient/pat-lee", required=True)
    assert row["requester_id"] == Ref("Practitioner", "Practitioner/prac-ruiz", required=False)
    assert (row["status"], row["intent"]) == ("active", "order")
    assert (row["code_system"], row["code"], row["display"]) == (
        SNOMED,
        "306206005",
        "Referral to service",
    )
    assert row["specialty"] == "Cardiology"
    assert row["performer_name"] == "Dr. Heart, Valley Cardiology"
    assert row["reason"] == "Palpitations; Chest pain"
    assert row["authored_on"] == datetime(2026, 10, 1, 13, 30, tzinfo=UTC)
    assert row["occurrence"] == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)


def test_service_request_without_performer_type_has_empty_specialty():
    resource = referral()
    del resource["performerType"], resource["performer"], resource["occurrencePeriod"]
    [row] = map_resource(parse_resource(resource))
    assert (row["specialty"], row["performer_name"], row["occurrence"]) == ("", "", None)


def test_imported_referral_links_patient_and_requester_and_reimport_updates(session, now):
    doctor = load("practitioner")
    report = import_bundle(bundle(patient("pat-lee"), doctor, referral()), session=session, now=now)
    assert report.quarantined == 0
    stored = session.exec(select(ServiceRequest)).one()
    prac = session.exec(select(Practitioner)).one()
    assert stored.requester_id == prac.id
    assert stored.specialty == "Cardiology"

    import_bundle(bundle(referral(status="completed")), session=session, now=now)
    session.expire_all()
    [again] = session.exec(select(ServiceRequest)).all()
    assert again.status == "completed"


def test_demo_clinic_patients_with_chronic_problems_have_referrals(session, now):
    from portal.demo.seed import seed_demo_clinic

    seed_demo_clinic(session=session, n_patients=6, seed=7, now=now, password="Demo-pass-word-1")
    rows = session.exec(select(ServiceRequest)).all()
    assert rows, "the demo clinic should show referrals"
    assert {r.specialty for r in rows} <= {"Ophthalmology", "Nephrology", "Pulmonology"}
    assert all(r.requester_id is not None and r.authored_on for r in rows)
