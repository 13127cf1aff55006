"""Seed a database with the demo clinic: its FHIR record goes in through the EHR importer (the
same path a live sync takes), then one portal account per role is created, then the portal's
own activity (provider hours, bookings, messages, refills: portal/demo/activity.py)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from db.models import Condition, FhirRow, Patient, Practitioner, ProxyGrant, Role, User, saved_id
from ehr_sync.importer import import_bundle
from ehr_sync.report import ImportReport
from portal.demo.activity import Activity, seed_portal_activity
from portal.demo.generator import (
    DR_PATEL,
    MIN_PATIENTS,
    SHOWCASE_CHILDREN,
    SHOWCASE_PATIENT,
    caregiver_name,
    clinic_bundles,
    patient_fhir_id,
)
from portal.demo.readings import seed_home_readings
from portal.passwords import hash_password

DEMO_SOURCE = "demo"
# About 1,000 resources per bundle: the importer's batch size, so one commit per bundle.
PATIENTS_PER_BUNDLE = 4


@dataclass(frozen=True)
class StaffAccount:
    username: str
    role: Role
    display_name: str


STAFF_ACCOUNTS = (
    StaffAccount("admin", Role.ADMIN, "Jordan Blake"),
    StaffAccount("frontdesk", Role.FRONT_DESK, "Casey Morgan"),
    StaffAccount("nurse", Role.NURSE, "Riley Thompson, RN"),
)
CLINICIAN_USERNAME = "drpatel"
PATIENT_USERNAME = "patient"
CAREGIVER_USERNAME = "caregiver"
DEMO_USERNAMES = (
    PATIENT_USERNAME,
    CAREGIVER_USERNAME,
    "frontdesk",
    "nurse",
    CLINICIAN_USERNAME,
    "admin",
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    who: str


@dataclass
class DemoLogins:
    """The demo accounts to print, and what the import did."""

    logins: list[DemoLogin]
    patients: int = 0
    report: ImportReport = field(default_factory=ImportReport)
    activity: Activity = field(default_factory=Activity)

    def __iter__(self) -> Iterator[DemoLogin]:
        return iter(self.logins)

    @property
    def usernames(self) -> list[str]:
        return [login.username for login in self.logins]


def seed_demo_clinic(
    *, session: Session, n_patients: int, seed: int, now: datetime, password: str
) -> DemoLogins:
    """Import the demo clinic's record and create (or reset) one account per role."""
    if n_patients < MIN_PATIENTS:
        raise ValueError(f"The demo clinic needs at least {MIN_PATIENTS} patients.")
    # Hash once: bcrypt is slow on purpose, and every demo account shares the password.
    password_hash = hash_password(password)
    report = ImportReport()
    bundles = clinic_bundles(
        n_patients, seed=seed, now=now, patients_per_bundle=PATIENTS_PER_BUNDLE
    )
    for bundle in bundles:
        report.merge(import_bundle(bundle, session=session, source=DEMO_SOURCE, now=now))
    _create_accounts(session, password_hash, seed=seed)
    session.commit()
    activity = seed_portal_activity(session=session, seed=seed, now=now)
    seed_home_readings(session=session, seed=seed, now=now)
    return DemoLogins(demo_logins(session=session), n_patients, report, activity)


def demo_seeded(*, session: Session) -> bool:
    """Whether this database holds the demo clinic."""
    query = select(Patient.id).where(Patient.source == DEMO_SOURCE).limit(1)
    return session.exec(query).first() is not None


def demo_logins(*, session: Session) -> list[DemoLogin]:
    """The demo accounts present in the database, in the order people should try them."""
    users = session.exec(select(User).where(col(User.username).in_(DEMO_USERNAMES))).all()
    by_name = {u.username: u for u in users}
    return [
        DemoLogin(name, str(by_name[name].role), _who(by_name[name], session))
        for name in DEMO_USERNAMES
        if name in by_name
    ]


def _who(user: User, session: Session) -> str:
    """One line about the account: whose record it opens, or the staff member's name."""
    if user.role == Role.PATIENT and user.patient_id is not None:
        patient = session.get(Patient, user.patient_id)
        problems = session.exec(
            select(Condition.display)
            .where(Condition.patient_id == user.patient_id, Condition.clinical_status == "active")
            .order_by(col(Condition.id))
        ).all()
        age = f" ({_age(patient.birth_date)})" if patient and patient.birth_date else ""
        return f"{user.display_name}{age}: {', '.join(problems).lower() or 'no problems'}"
    if user.role == Role.PROXY:
        query = (
            select(Patient)
            .join(ProxyGrant, col(ProxyGrant.patient_id) == Patient.id)
            .where(ProxyGrant.user_id == user.id, col(ProxyGrant.revoked_at).is_(None))
            .order_by(col(Patient.id))
        )
        children = " and ".join(
            f"{p.given_name} ({_age(p.birth_date)})" if p.birth_date else p.given_name
            for p in session.exec(query).all()
        )
        return f"{user.display_name}, parent of {children}" if children else user.display_name
    return user.display_name


def _age(birth_date: date) -> int:
    today = date.today()
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


# --- accounts ------------------------------------------------------------------------------


def _create_accounts(session: Session, password_hash: str, *, seed: int) -> None:
    patients = _demo_rows(session, Patient, [patient_fhir_id(n) for n in _showcase_numbers()])
    adult = patients[patient_fhir_id(SHOWCASE_PATIENT)]
    children = [patients[patient_fhir_id(n)] for n in SHOWCASE_CHILDREN]
    doctor = _demo_rows(session, Practitioner, [DR_PATEL.fhir_id])[DR_PATEL.fhir_id]
    for account in STAFF_ACCOUNTS:
        _upsert_user(
            session,
            account.username,
            password_hash,
            role=account.role,
            display_name=account.display_name,
        )
    _upsert_user(
        session,
        CLINICIAN_USERNAME,
        password_hash,
        role=Role.CLINICIAN,
        display_name=doctor.name,
        practitioner_id=doctor.id,
    )
    _upsert_user(
        session,
        PATIENT_USERNAME,
        password_hash,
        role=Role.PATIENT,
        display_name=adult.display_name,
        email=adult.email,
        patient_id=adult.id,
    )
    given, family = caregiver_name(seed=seed)
    caregiver = _upsert_user(
        session,
        CAREGIVER_USERNAME,
        password_hash,
        role=Role.PROXY,
        display_name=f"{given} {family}",
        email=f"{given}.{family}.parent@example.com".lower(),
    )
    session.flush()
    for child in children:
        _grant(session, caregiver, child)


def _showcase_numbers() -> list[int]:
    return [SHOWCASE_PATIENT, *SHOWCASE_CHILDREN]


DemoRow = TypeVar("DemoRow", bound=FhirRow)


def _demo_rows(session: Session, model: type[DemoRow], fhir_ids: list[str]) -> dict[str, DemoRow]:
    rows = session.exec(
        select(model).where(col(model.source) == DEMO_SOURCE, col(model.fhir_id).in_(fhir_ids))
    ).all()
    found = {row.fhir_id: row for row in rows}
    missing = sorted(set(fhir_ids) - set(found))
    if missing:
        # Only possible if the importer quarantined them: say so rather than seed half a demo.
        raise RuntimeError(f"The demo import did not store {', '.join(missing)}.")
    return found


def _upsert_user(session: Session, username: str, password_hash: str, **fields: Any) -> User:
    """Create the account, or reset an existing one to its demo state (role, links, password)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, password_hash=password_hash, **fields)
    else:
        user.password_hash = password_hash
        user.active = True
        for name, value in fields.items():
            setattr(user, name, value)
    user.email = fields.get("email") or f"{username}@example.com"
    session.add(user)
    return user


def _grant(session: Session, user: User, patient: Patient) -> None:
    existing = session.exec(
        select(ProxyGrant).where(ProxyGrant.user_id == user.id, ProxyGrant.patient_id == patient.id)
    ).first()
    if existing is None:
        session.add(
            ProxyGrant(user_id=saved_id(user), patient_id=saved_id(patient), relationship="parent")
        )
    else:
        existing.revoked_at = None
