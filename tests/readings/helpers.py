"""People and sample files for the readings tests."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from sqlmodel import Session

from db.models import Patient, PatientReading, Role, User
from portal.services.readings import entry
from tests.factories import create_patient, create_user, grant_proxy


@dataclass
class People:
    alice: Patient
    bob: Patient
    alice_user: User
    bob_user: User
    proxy: User
    nurse: User
    doctor: User
    front_desk: User


def make_people(session: Session) -> People:
    alice = create_patient(session, given_name="Alice", family_name="Reading")
    bob = create_patient(session, given_name="Bob", family_name="Other")
    proxy = create_user(session, Role.PROXY, username="carer")
    grant_proxy(session, proxy, alice)
    return People(
        alice=alice,
        bob=bob,
        alice_user=create_user(session, Role.PATIENT, alice, username="alice"),
        bob_user=create_user(session, Role.PATIENT, bob, username="bob"),
        proxy=proxy,
        nurse=create_user(session, Role.NURSE, username="nurse"),
        doctor=create_user(session, Role.CLINICIAN, username="doctor"),
        front_desk=create_user(session, Role.FRONT_DESK, username="desk"),
    )


def add_reading(
    session: Session,
    by: User,
    patient: Patient,
    measure: str,
    value: float,
    unit: str,
    *,
    taken_at: datetime,
    now: datetime,
    value2: float | None = None,
) -> PatientReading:
    """One reading entered by ``by`` through the service (its checks and alert rules)."""
    result = entry.add_reading(
        by,
        patient.id,
        session=session,
        now=now,
        measure=measure,
        value=value,
        value2=value2,
        unit=unit,
        taken_at=taken_at,
    )
    assert result.reading is not None
    return result.reading


def apple_date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %z")


def apple_record(kind: str, value: str, unit: str, when: datetime, source: str = "Watch") -> str:
    start = apple_date(when)
    end = apple_date(when + timedelta(minutes=1))
    unit = escape(unit)
    return (
        f'<Record type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" unit="{unit}" '
        f'creationDate="{end}" startDate="{start}" endDate="{end}" value="{value}">'
        '<MetadataEntry key="HKWasUserEntered" value="0"/></Record>\n'
    )


def apple_bp(systolic: int, diastolic: int, when: datetime, source: str = "Cuff") -> str:
    start = apple_date(when)
    return (
        f'<Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="{source}" '
        f'creationDate="{start}" startDate="{start}" endDate="{start}">\n'
        + apple_record("BloodPressureSystolic", str(systolic), "mmHg", when, source)
        + apple_record("BloodPressureDiastolic", str(diastolic), "mmHg", when, source)
        + "</Correlation>\n"
    )


APPLE_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-11-24 09:00:00 -0500"/>
 <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""
APPLE_TAIL = "</HealthData>\n"


def apple_export(body: str) -> bytes:
    return (APPLE_HEAD + body + APPLE_TAIL).encode()
