"""Plain factory functions for tests: each adds a row with sensible defaults and returns it."""

import itertools
from datetime import UTC, date, datetime

from sqlmodel import Session

from db.models import Observation, Patient, Practitioner, ProxyGrant, Role, User
from portal.passwords import hash_password

_counter = itertools.count(1)
# Hashing at the lowest cost keeps tests fast; production uses the default cost.
TEST_PASSWORD = "Test-password-1"
_TEST_HASH = hash_password(TEST_PASSWORD, rounds=4)


def create_patient(session: Session, **fields) -> Patient:
    n = next(_counter)
    given = fields.pop("given_name", f"Given{n}")
    family = fields.pop("family_name", f"Family{n}")
    patient = Patient(
        fhir_id=fields.pop("fhir_id", f"pat-{n}"),
        mrn=fields.pop("mrn", f"MRN{n:06d}"),
        given_name=given,
        family_name=family,
        given_name_lower=given.lower(),
        family_name_lower=family.lower(),
        birth_date=fields.pop("birth_date", date(1980, 1, 1)),
        sex=fields.pop("sex", "female"),
        **fields,
    )
    session.add(patient)
    session.commit()
    session.refresh(patient)
    return patient


def create_practitioner(session: Session, **fields) -> Practitioner:
    n = next(_counter)
    practitioner = Practitioner(
        fhir_id=fields.pop("fhir_id", f"prac-{n}"), name=fields.pop("name", f"Dr. Doc{n}"), **fields
    )
    session.add(practitioner)
    session.commit()
    session.refresh(practitioner)
    return practitioner


def create_user(
    session: Session, role: Role = Role.PATIENT, patient: Patient | None = None, **fields
) -> User:
    n = next(_counter)
    user = User(
        username=fields.pop("username", f"user{n}"),
        password_hash=fields.pop("password_hash", _TEST_HASH),
        role=role,
        display_name=fields.pop("display_name", f"User {n}"),
        patient_id=patient.id if patient else None,
        **fields,
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def grant_proxy(session: Session, user: User, patient: Patient, **fields) -> ProxyGrant:
    grant = ProxyGrant(user_id=user.id, patient_id=patient.id, **fields)
    session.add(grant)
    session.commit()
    return grant


def create_observation(session: Session, patient: Patient, **fields) -> Observation:
    n = next(_counter)
    obs = Observation(
        fhir_id=fields.pop("fhir_id", f"obs-{n}"),
        patient_id=patient.id,
        code_system=fields.pop("code_system", "http://loinc.org"),
        code=fields.pop("code", "4548-4"),
        display=fields.pop("display", "Hemoglobin A1c"),
        value=fields.pop("value", 5.6),
        unit=fields.pop("unit", "%"),
        ref_low=fields.pop("ref_low", 4.0),
        ref_high=fields.pop("ref_high", 5.6),
        effective_at=fields.pop("effective_at", datetime(2026, 1, 1, tzinfo=UTC)),
        **fields,
    )
    session.add(obs)
    session.commit()
    session.refresh(obs)
    return obs
