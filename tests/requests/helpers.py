"""Factories and sample files for the request and triage tests."""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from db.models import Encounter, MedicationRequest, Patient, Role, TriageItem, User
from portal.services import messages
from tests.factories import create_patient, create_user

_counter = itertools.count(1)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def create_medication(session: Session, patient: Patient, **fields) -> MedicationRequest:
    n = next(_counter)
    med = MedicationRequest(
        fhir_id=fields.pop("fhir_id", f"medreq-req-{n}"),
        patient_id=patient.id,
        display=fields.pop("display", "Metformin 500 mg tablet"),
        status=fields.pop("status", "active"),
        dosage_text=fields.pop("dosage_text", "1 tablet twice daily"),
        **fields,
    )
    session.add(med)
    session.commit()
    session.refresh(med)
    return med


def create_visit(session: Session, patient: Patient, start: datetime, **fields) -> Encounter:
    n = next(_counter)
    visit = Encounter(
        fhir_id=f"enc-req-{n}",
        patient_id=patient.id,
        start=start,
        type_display=fields.pop("type_display", "Office visit"),
        **fields,
    )
    session.add(visit)
    session.commit()
    return visit


@dataclass
class Clinic:
    """Two patients with accounts, a proxy for the first, and two staff members."""

    alice: Patient
    bob: Patient
    alice_user: User
    bob_user: User
    proxy: User
    nurse: User
    doctor: User


def make_clinic(session: Session) -> Clinic:
    from tests.factories import grant_proxy

    alice = create_patient(session, given_name="Alice", family_name="Archer", phone="555-0100")
    bob = create_patient(session, given_name="Bob", family_name="Baker")
    alice_user = create_user(session, Role.PATIENT, patient=alice, email="alice@example.com")
    bob_user = create_user(session, Role.PATIENT, patient=bob)
    proxy = create_user(session, Role.PROXY)
    grant_proxy(session, proxy, alice)
    nurse = create_user(session, Role.NURSE, display_name="Nora Nurse")
    doctor = create_user(session, Role.CLINICIAN, display_name="Dr. Dana")
    return Clinic(alice, bob, alice_user, bob_user, proxy, nurse, doctor)


NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York


def alice_writes_to_the_care_team(clinic: Clinic, session: Session, now: datetime) -> None:
    """Alice's message "Knee" ("Hurts") to the care team: one item in the inbox."""
    messages.start_thread(
        clinic.alice_user,
        clinic.alice.id,
        recipient="care_team",
        subject="Knee",
        body="Hurts",
        session=session,
        now=now,
    )


def care_team_replies_to_alice(clinic: Clinic, session: Session, now: datetime) -> None:
    """Alice writes to the care team ("Knee"), and the nurse replies from the inbox ("Rest")."""
    alice_writes_to_the_care_team(clinic, session, now)
    item = session.exec(select(TriageItem)).one()
    messages.staff_reply(clinic.nurse, item.id, item.version, body="Rest", session=session, now=now)
