"""My data: the FHIR R4 Bundle parses with fhir.resources R4B and holds the whole record; the
printable summary escapes record text; the date range filters; every export is audited."""

import json
from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select

from db.models import AuditEvent, DiagnosticReport, ServiceRequest
from ehr_sync.mappers import map_resource
from ehr_sync.parsing import parse_resource
from portal.errors import InvalidInput, NotYourRecord, PortalError
from portal.services import record_export
from portal.services.record_export import DateRange
from portal.services.record_export import rows as record_rows
from tests.factories import create_observation, create_practitioner
from tests.factories_records import (
    create_allergy,
    create_appointment,
    create_blood_pressure,
    create_condition,
    create_document,
    create_encounter,
    create_immunization,
    create_medication,
)
from tests.hostile_text import hostile
from tests.requests.helpers import make_clinic


def full_record(session, clinic):
    alice = clinic.alice
    doctor = create_practitioner(session, name="Dr. Ruiz")
    create_condition(session, alice, display="<script>alert(1)</script> diabetes")
    create_medication(session, alice, prescriber_id=doctor.id)
    create_allergy(session, alice)
    create_immunization(session, alice)
    create_immunization(session, alice, occurrence=None, display="Old tetanus shot")
    create_observation(session, alice, effective_at=datetime(2026, 3, 1, 15, tzinfo=UTC))
    create_observation(
        session,
        alice,
        code="2093-3",
        display="Cholesterol",
        value=None,
        value_string="see note",
        effective_at=datetime(2025, 6, 1, 15, tzinfo=UTC),
    )
    create_blood_pressure(session, alice, 120, 80, datetime(2025, 5, 1, 15, tzinfo=UTC))
    create_encounter(session, alice, practitioner_id=doctor.id, reason="Check-up")
    create_encounter(session, alice, class_code=None, start=None)
    create_appointment(session, alice, practitioner_id=doctor.id)
    create_document(session, alice)
    session.add(
        DiagnosticReport(
            fhir_id="rep-1", patient_id=alice.id, display="Lipid panel", code="57698-3"
        )
    )
    session.add(
        ServiceRequest(
            fhir_id="sr-1",
            patient_id=alice.id,
            specialty="Cardiology",
            authored_on=datetime(2026, 2, 1, tzinfo=UTC),
        )
    )
    # Someone else's row never leaks into Alice's file.
    create_condition(session, clinic.bob, display="Bob's problem")
    session.commit()


def bundle_of(file: record_export.RecordFile) -> dict:
    return json.loads(file.content)


def test_bundle_parses_as_fhir_r4b_and_holds_every_record_type(session, now):
    clinic = make_clinic(session)
    full_record(session, clinic)

    file = record_export.export_fhir_bundle(
        clinic.alice_user, clinic.alice.id, DateRange(), session=session, now=now
    )

    assert file.mime == "application/fhir+json"
    assert file.file_name == "health-record-alice-archer-20261124.fhir.json"
    data = bundle_of(file)
    parsed = Bundle.model_validate(data)
    assert parsed.type == "collection"
    types = [e.resource.get_resource_type() for e in parsed.entry]
    assert types.count("Patient") == 1
    for expected in (
        "Condition",
        "MedicationRequest",
        "AllergyIntolerance",
        "Immunization",
        "Observation",
        "DiagnosticReport",
        "Encounter",
        "Appointment",
        "DocumentReference",
        "ServiceRequest",
    ):
        assert expected in types, expected
    assert types.count("Observation") == 4  # A1c, cholesterol, systolic, diastolic
    assert "Bob's problem" not in file.content.decode()
    # Every reference to the patient resolves inside the bundle.
    patient_url = next(
        e["fullUrl"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    condition = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Condition"
    )
    assert condition["subject"]["reference"] == patient_url
    urls = [e["fullUrl"] for e in data["entry"]]
    assert len(urls) == len(set(urls))


def test_bundle_of_an_empty_record_is_just_the_patient(session, now):
    clinic = make_clinic(session)
    data = bundle_of(
        record_export.export_fhir_bundle(
            clinic.bob_user, clinic.bob.id, DateRange(), session=session, now=now
        )
    )
    Bundle.model_validate(data)
    assert [e["resource"]["resourceType"] for e in data["entry"]] == ["Patient"]


def test_date_range_keeps_rows_inside_it_and_undated_rows(session, now):
    clinic = make_clinic(session)
    full_record(session, clinic)
    period = DateRange(start=date(2026, 1, 1), end=date(2026, 3, 1))

    data = bundle_of(
        record_export.export_fhir_bundle(
            clinic.alice_user, clinic.alice.id, period, session=session, now=now
        )
    )

    Bundle.model_validate(data)
    observations = [
        e["resource"]["code"]["coding"][0]["code"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Observation"
    ]
    assert observations == ["4548-4"]  # March 1 (the end day) is in; June 2025 is out
    vaccines = [
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Immunization"
    ]
    assert [v.get("occurrenceString") for v in vaccines] == ["unknown"]  # undated kept


def test_range_with_start_after_end_is_refused():
    with pytest.raises(InvalidInput):
        DateRange(start=date(2026, 2, 1), end=date(2026, 1, 1))


def test_printable_summary_escapes_record_text_and_is_print_ready(session, now):
    clinic = make_clinic(session)
    full_record(session, clinic)

    create_observation(
        session, clinic.alice, value=7.9, effective_at=datetime(2026, 4, 1, tzinfo=UTC)
    )

    file = record_export.export_printable_summary(
        clinic.proxy, clinic.alice.id, DateRange(), session=session, now=now
    )

    page = file.content.decode()
    assert file.mime == "text/html"
    assert page.startswith("<!DOCTYPE html>")
    assert "@media print" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; diabetes" in page
    assert "Health summary: Alice Archer" in page
    assert "Bob&#x27;s problem" not in page and "Bob's problem" not in page
    assert "Cardiology" in page
    assert "<td>7.9</td><td>%</td><td>4–5.6</td><td>High</td>" in page
    assert "<td>Active</td>" in page


def test_every_export_is_audited_with_format_and_range(session, now):
    clinic = make_clinic(session)
    record_export.export_fhir_bundle(
        clinic.alice_user,
        clinic.alice.id,
        DateRange(start=date(2026, 1, 1)),
        session=session,
        now=now,
    )
    record_export.export_printable_summary(
        clinic.alice_user, clinic.alice.id, DateRange(), session=session, now=now
    )
    events = session.exec(
        select(AuditEvent).where(AuditEvent.category == record_export.EXPORTED_RECORD)
    ).all()
    assert [(e.action, e.patient_id, e.detail) for e in events] == [
        ("export", clinic.alice.id, "FHIR bundle, 1 Jan 2026 to today"),
        ("export", clinic.alice.id, "printable summary, all dates"),
    ]


def test_patient_cannot_export_another_patients_record_and_the_refusal_is_audited(session, now):
    clinic = make_clinic(session)
    with pytest.raises(NotYourRecord):
        record_export.export_fhir_bundle(
            clinic.bob_user, clinic.alice.id, DateRange(), session=session, now=now
        )
    denied = session.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).one()
    assert denied.category == record_export.EXPORTED_RECORD


def test_every_demo_patient_exports_a_valid_bundle_and_summary(session, now):
    from db.models import Patient, Role, User
    from portal.demo.seed import seed_demo_clinic

    seed_demo_clinic(session=session, n_patients=3, seed=11, now=now, password="Demo-pass-word-1")
    admin = session.exec(select(User).where(User.role == Role.ADMIN)).first()
    patients = session.exec(select(Patient)).all()
    assert len(patients) >= 3
    entries = 0
    for patient in patients:
        file = record_export.export_fhir_bundle(
            admin, patient.id, DateRange(), session=session, now=now
        )
        bundle = Bundle.model_validate_json(file.content)
        entries += len(bundle.entry)
        page = record_export.export_printable_summary(
            admin, patient.id, DateRange(), session=session, now=now
        )
        assert patient.family_name in page.content.decode()
    assert entries > 10 * len(patients)  # real records, not just Patient entries


def test_exported_codes_read_back_through_the_ehr_sync_as_the_same_columns(session, now):
    """The export and the sync share one concept builder and its reader: a round trip through
    the sync's own mappers gives back the rows' code system, code and display."""
    clinic = make_clinic(session)
    full_record(session, clinic)
    rows = record_rows._read_rows(clinic.alice, DateRange(), session=session)
    data = bundle_of(
        record_export.export_fhir_bundle(
            clinic.alice_user, clinic.alice.id, DateRange(), session=session, now=now
        )
    )
    expected = {
        "Condition": rows.conditions,
        "MedicationRequest": rows.medications,
        "AllergyIntolerance": rows.allergies,
        "Immunization": rows.immunizations,
        "Observation": rows.observations,
    }
    for resource_type, source_rows in expected.items():
        resources = [
            e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == resource_type
        ]
        read_back = [
            (row["code_system"], row["code"], row["display"])
            for resource in resources
            for row in map_resource(parse_resource(resource))
        ]
        assert read_back == [(r.code_system, r.code, r.display) for r in source_rows], resource_type


def test_a_value_fhir_refuses_stops_the_export_in_plain_words_and_is_not_audited(session, now):
    clinic = make_clinic(session)
    create_condition(session, clinic.alice, code="44054006 ")  # a code may not end in a space

    with pytest.raises(record_export.RecordNotExportable) as refused:
        record_export.export_fhir_bundle(
            clinic.alice_user, clinic.alice.id, DateRange(), session=session, now=now
        )

    assert isinstance(refused.value, PortalError)
    assert refused.value.user_message.startswith("Part of this record could not be written")
    exported = select(AuditEvent).where(AuditEvent.action == "export")
    assert session.exec(exported).all() == []


def test_printable_summary_shows_hostile_text_as_text(session, now):
    """Every field the EHR or the patient fills reaches the page escaped by the template."""
    clinic = make_clinic(session)
    host = "127.0.0.1:9"
    create_condition(session, clinic.alice, display=hostile("cond", host))
    create_medication(session, clinic.alice, dosage_text=hostile("dose", host))
    create_allergy(session, clinic.alice, reaction=hostile("reaction", host))
    create_encounter(session, clinic.alice, reason=hostile("reason", host))
    session.add(
        ServiceRequest(
            fhir_id="sr-hostile",
            patient_id=clinic.alice.id,
            specialty=hostile("specialty", host),
            performer_name='"><script>alert(2)</script>',
        )
    )
    clinic.alice.family_name = "<b>Archer</b>"
    session.add(clinic.alice)
    session.commit()

    page = record_export.export_printable_summary(
        clinic.alice_user, clinic.alice.id, DateRange(), session=session, now=now
    ).content.decode()

    assert "<img" not in page and "<script" not in page and "<b>" not in page
    for tag in ("cond", "dose", "reaction", "reason", "specialty"):
        escaped = hostile(tag, host).replace("<", "&lt;").replace(">", "&gt;")
        assert f"<td>{escaped}</td>" in page, tag
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "<title>Health summary: Alice &lt;b&gt;Archer&lt;/b&gt;</title>" in page
