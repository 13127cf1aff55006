"""The importer against a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from db.models import (
    FHIR_TABLES,
    AllergyIntolerance,
    Appointment,
    Condition,
    DiagnosticReport,
    Document,
    Encounter,
    Immunization,
    Location,
    MedicationRequest,
    Observation,
    Organization,
    Patient,
    Practitioner,
    QuarantinedResource,
)
from ehr_sync import bulk, import_bundle, import_resources
from ehr_sync.importer import parallel_validation
from tests.ehr_sync.fhir_json import ALL_FIXTURES, bundle, glucose, load, patient


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def row_counts(session) -> dict[str, int]:
    return {model.__name__: count(session, model) for model in (*FHIR_TABLES, QuarantinedResource)}


def clinic_bundle() -> dict:
    return bundle(*(load(name) for name in ALL_FIXTURES))


def test_bundle_imports_every_resource_type_and_links_references(session, now):
    report = import_bundle(clinic_bundle(), session=session, now=now)

    assert report.created == len(ALL_FIXTURES)
    assert (report.updated, report.quarantined) == (0, 0)
    assert report.counts("Observation").created == 2
    pat = session.exec(select(Patient)).one()
    doctor = session.exec(select(Practitioner)).one()
    assert (pat.source, pat.fhir_id, pat.mrn) == ("ehr", "pat-lee", "MRN-004211")
    assert pat.primary_practitioner_id == doctor.id
    for model in (Condition, AllergyIntolerance, Immunization, DiagnosticReport, Document):
        assert session.exec(select(model)).one().patient_id == pat.id
    assert session.exec(select(MedicationRequest)).one().prescriber_id == doctor.id
    assert session.exec(select(Encounter)).one().practitioner_id == doctor.id
    appointment = session.exec(select(Appointment)).one()
    assert (appointment.patient_id, appointment.practitioner_id) == (pat.id, doctor.id)


def test_blood_pressure_is_stored_as_systolic_and_diastolic_rows(session, now):
    import_resources(
        [load("patient"), load("observation_blood_pressure")], session=session, now=now
    )
    rows = session.exec(select(Observation).order_by(Observation.code)).all()
    assert [(r.fhir_id, r.code, r.value) for r in rows] == [
        ("obs-bp-1", "8462-4", 88.0),
        ("obs-bp-1", "8480-6", 142.0),
    ]


def test_report_results_get_the_report_fhir_id_and_keep_it_on_reimport(session, now):
    import_bundle(clinic_bundle(), session=session, now=now)
    import_resources([load("observation_glucose")], session=session, now=now)

    linked = session.exec(select(Observation).where(Observation.code == "2345-7")).one()
    assert linked.report_fhir_id == "dr-bmp-1"


def test_importing_the_same_bundle_twice_updates_instead_of_duplicating(session, now):
    first = import_bundle(clinic_bundle(), session=session, now=now)
    counts_after_first = row_counts(session)
    second = import_bundle(clinic_bundle(), session=session, now=now)

    assert row_counts(session) == counts_after_first
    assert first.created == second.updated == len(ALL_FIXTURES)
    assert (second.created, second.quarantined) == (0, 0)


def test_reimport_changes_the_stored_values(session, now):
    import_resources([load("patient"), glucose("obs-1")], session=session, now=now)
    corrected = {"value": 131, "unit": "mg/dL"}
    report = import_resources([glucose("obs-1", valueQuantity=corrected)], session=session, now=now)

    assert report.counts("Observation").updated == 1
    assert session.exec(select(Observation.value)).one() == 131.0


def test_bad_resources_are_quarantined_and_the_rest_of_the_bundle_imports(session, now):
    no_code = glucose("obs-no-code")
    del no_code["code"]
    no_id = glucose("whatever")
    del no_id["id"]
    unsupported = {"resourceType": "Claim", "id": "claim-1", "status": "active"}
    report = import_bundle(
        bundle(load("patient"), no_code, glucose("obs-good"), no_id, unsupported),
        session=session,
        now=now,
    )

    assert report.counts("Observation").created == 1
    assert report.quarantined == 3
    assert report.total == 5
    assert session.exec(select(Observation.fhir_id)).all() == ["obs-good"]
    quarantined = session.exec(select(QuarantinedResource)).all()
    assert {q.received_at for q in quarantined} == {now}
    reasons = {q.fhir_id: q.reason for q in quarantined}
    assert reasons["obs-no-code"].startswith("Not valid FHIR R4")
    assert "code" in reasons["obs-no-code"]  # the validation error itself is kept
    assert reasons[None] == "No id"
    assert reasons["claim-1"] == "Unsupported resourceType 'Claim'"


def test_quarantined_resource_keeps_its_raw_json(session, now):
    bad = glucose("obs-bad", effectiveDateTime="last tuesday")
    import_resources([bad], session=session, source="lab-x", now=now)

    stored = session.exec(select(QuarantinedResource)).one()
    assert (stored.source, stored.resource_type, stored.fhir_id) == (
        "lab-x",
        "Observation",
        "obs-bad",
    )
    assert json.loads(stored.raw_json) == bad


def test_reference_to_an_unknown_patient_is_quarantined(session, now):
    report = import_resources(
        [load("patient"), glucose("obs-ok"), glucose("obs-orphan", patient_id="pat-nobody")],
        session=session,
        now=now,
    )

    assert report.counts("Observation").created == 1
    assert report.counts("Observation").quarantined == 1
    orphan = session.exec(select(QuarantinedResource)).one()
    assert orphan.fhir_id == "obs-orphan"
    assert "Patient/pat-nobody" in orphan.reason and "not been imported" in orphan.reason


def test_worker_validated_resources_quarantined_at_write_time_keep_their_own_json(session, now):
    # Workers send mapped resources back without their JSON; the importer puts each one back.
    orphans = [glucose(f"obs-orphan-{n}", patient_id="pat-nobody") for n in range(20)]
    with parallel_validation(1):
        report = import_resources([load("patient"), *orphans], session=session, now=now)

    assert report.counts("Observation").quarantined == 20
    stored = {q.fhir_id: json.loads(q.raw_json) for q in session.exec(select(QuarantinedResource))}
    assert stored == {o["id"]: o for o in orphans}


def test_patient_from_another_source_does_not_satisfy_a_reference(session, now):
    import_resources([load("patient")], session=session, source="other-ehr", now=now)
    report = import_resources([glucose("obs-1")], session=session, source="ehr", now=now)
    assert report.counts("Observation").quarantined == 1


def test_patient_later_in_the_same_call_is_found_even_in_a_later_batch(session, now):
    resources = [glucose(f"obs-{n}") for n in range(5)] + [load("patient")]
    report = import_resources(resources, session=session, now=now, batch_size=2)

    assert report.counts("Observation").created == 5
    assert report.quarantined == 0
    assert count(session, Observation) == 5


def test_transaction_bundle_urn_uuid_references_resolve_by_full_url(session, now):
    pat = patient("5e3a1b2c-0001")
    obs = glucose("5e3a1b2c-0002", subject={"reference": "urn:uuid:5e3a1b2c-0001"})
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:5e3a1b2c-0002", "resource": obs},
            {"fullUrl": "urn:uuid:5e3a1b2c-0001", "resource": pat},
        ],
    }
    report = import_bundle(transaction, session=session, now=now)

    assert report.created == 2
    stored_patient = session.exec(select(Patient)).one()
    assert session.exec(select(Observation)).one().patient_id == stored_patient.id


def test_same_resource_twice_in_one_batch_keeps_the_later_version(session, now):
    older = glucose("obs-1", valueQuantity={"value": 100, "unit": "mg/dL"})
    newer = glucose("obs-1", valueQuantity={"value": 140, "unit": "mg/dL"})
    report = import_resources([load("patient"), older, newer], session=session, now=now)

    assert report.counts("Observation").total == 2
    assert session.exec(select(Observation.value)).all() == [140.0]


def test_unknown_practitioner_leaves_an_optional_link_empty(session, now):
    import_resources([load("patient"), load("encounter")], session=session, now=now)
    assert session.exec(select(Encounter)).one().practitioner_id is None
    assert session.exec(select(Patient)).one().primary_practitioner_id is None


def test_times_are_stored_and_read_back_as_utc(session, now):
    naive = glucose("obs-naive", effectiveDateTime="2026-03-01T09:15:00")
    import_resources(
        [load("patient"), load("medication_request"), load("observation_glucose"), naive],
        session=session,
        now=now,
    )
    session.expire_all()

    effective = dict(session.exec(select(Observation.fhir_id, Observation.effective_at)).all())
    assert effective["obs-glucose-1"] == datetime(2026, 3, 1, 14, 15, tzinfo=UTC)  # from -05:00
    assert effective["obs-naive"] == datetime(2026, 3, 1, 9, 15, tzinfo=UTC)  # taken as UTC
    authored = session.exec(select(MedicationRequest.authored_on)).one()
    assert authored == datetime(2026, 2, 10, tzinfo=UTC)  # date-only: midnight UTC
    assert session.exec(select(Patient.last_updated)).one() == datetime(
        2026, 5, 4, 12, 30, tzinfo=UTC
    )


def test_resource_the_database_refuses_is_quarantined_and_its_batch_still_imports(
    session, now, monkeypatch
):
    real_upsert = bulk.upsert_rows

    def refuse_poison(session, model, rows):
        if any(row["fhir_id"] == "obs-poison" for row in rows):
            raise IntegrityError("INSERT ...", {}, Exception("simulated constraint failure"))
        real_upsert(session, model, rows)

    monkeypatch.setattr(bulk, "upsert_rows", refuse_poison)
    report = import_resources(
        [load("patient"), glucose("obs-1"), glucose("obs-poison"), glucose("obs-2")],
        session=session,
        now=now,
    )

    assert report.counts("Patient").created == 1
    assert report.counts("Observation").created == 2
    assert report.counts("Observation").quarantined == 1
    assert count(session, Patient) == 1
    poisoned = session.exec(select(QuarantinedResource)).one()
    assert poisoned.fhir_id == "obs-poison"
    assert "simulated constraint failure" in poisoned.reason


def test_each_batch_is_committed(engine, session, now):
    resources = [load("patient")] + [glucose(f"obs-{n}") for n in range(5)]
    import_resources(resources, session=session, now=now, batch_size=2)

    with Session(engine) as other:  # another connection sees it: it was committed
        assert count(other, Observation) == 5


def test_a_non_bundle_is_refused(session, now):
    with pytest.raises(ValueError, match="not a FHIR Bundle"):
        import_bundle(load("patient"), session=session, now=now)


def test_bundle_listing_a_visits_organization_after_the_visit_still_links_it(session, now):
    """Synthea's patient bundles put Organizations and Locations after the visits naming them,
    with ``urn:uuid`` references between entries."""
    org_url, site_url = "urn:uuid:org-0001", "urn:uuid:loc-0001"
    encounter = {
        **load("encounter"),
        "serviceProvider": {"reference": org_url},
        "location": [{"location": {"reference": site_url}}],
    }
    organization = {"resourceType": "Organization", "id": "org-0001", "name": "Riverside Clinic"}
    site = {
        "resourceType": "Location",
        "id": "loc-0001",
        "name": "Main Street",
        "managingOrganization": {"reference": org_url},
    }
    entries = [load("practitioner"), load("patient"), encounter, organization, site]
    full_urls = {id(organization): org_url, id(site): site_url}
    document = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": full_urls.get(id(r), f"urn:uuid:{r['id']}"), "resource": r} for r in entries
        ],
    }

    report = import_bundle(document, session=session, now=now)

    assert report.quarantined == 0
    stored = session.exec(select(Encounter)).one()
    assert session.get(Organization, stored.organization_id).name == "Riverside Clinic"
    place = session.get(Location, stored.location_id)
    assert place.name == "Main Street" and place.organization_id == stored.organization_id


def test_the_same_bad_resource_imported_twice_is_quarantined_once(session, now):
    bad = glucose("obs-bad") | {"status": "bogus"}
    for _ in range(2):
        report = import_resources([patient("pat-lee"), bad], session=session, now=now)
        assert report.quarantined == 1
    [entry] = session.exec(select(QuarantinedResource)).all()
    assert "status 'bogus'" in entry.reason


def test_a_batch_of_one_resource_imports_with_worker_validation(session, now):
    # With workers, this process validates a share of each batch itself; a batch of one is all
    # its own share, and used to fail (range() with a step of zero) for the workers' part.
    with parallel_validation(1):
        report = import_resources([patient("pat-lee")], session=session, now=now)
    assert report.counts("Patient").created == 1
