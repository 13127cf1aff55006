"""Seeding the demo clinic: through the EHR importer, with one working account per role."""

import pytest
from sqlmodel import func, select

from db.models import (
    Appointment,
    Observation,
    Patient,
    Practitioner,
    ProxyGrant,
    QuarantinedResource,
    Role,
    User,
)
from portal.demo.seed import DEMO_SOURCE, seed_demo_clinic
from portal.passwords import verify_password

PASSWORD = "Demo-seed-password-1"
PATIENTS = 6


@pytest.fixture
def seeded(session, now):
    return seed_demo_clinic(
        session=session, n_patients=PATIENTS, seed=7, now=now, password=PASSWORD
    )


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _user(session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def test_seed_imports_every_resource_through_the_importer_without_quarantine(session, seeded):
    assert seeded.report.quarantined == 0
    assert _count(session, QuarantinedResource) == 0
    assert seeded.report.counts("Patient").created == PATIENTS
    assert seeded.report.counts("Practitioner").created == 6
    patients = session.exec(select(Patient)).all()
    assert {p.source for p in patients} == {DEMO_SOURCE}
    assert all(p.mrn and p.primary_practitioner_id for p in patients)
    # Blood pressure panels become two rows each, so rows outnumber Observation resources.
    assert _count(session, Observation) > seeded.report.counts("Observation").created


def test_seed_creates_one_account_per_role_with_the_shared_password(session, seeded):
    roles = {login.role for login in seeded}
    assert roles == {r.value for r in Role}
    users = session.exec(select(User)).all()
    assert len(users) == len(Role)
    # One hash for all (bcrypt ran once, not once per account), and it opens every account.
    hashes = {u.password_hash for u in users}
    assert len(hashes) == 1
    assert verify_password(PASSWORD, hashes.pop())
    assert not verify_password("wrong-password-1", users[0].password_hash)


def test_demo_patient_is_linked_and_has_trends_and_an_upcoming_visit(session, seeded, now):
    patient_user = _user(session, "patient")
    assert patient_user.role == Role.PATIENT and patient_user.patient_id is not None
    a1c = session.exec(
        select(Observation)
        .where(Observation.patient_id == patient_user.patient_id, Observation.code == "4548-4")
        .order_by(Observation.effective_at)
    ).all()
    assert len(a1c) >= 6
    assert (a1c[-1].effective_at - a1c[0].effective_at).days >= 2 * 365
    assert len({o.value for o in a1c}) > 1
    assert all(o.interpretation == "H" and o.report_fhir_id for o in a1c)
    upcoming = session.exec(
        select(Appointment).where(
            Appointment.patient_id == patient_user.patient_id,
            Appointment.status == "booked",
            Appointment.start > now,
        )
    ).all()
    assert upcoming and upcoming[0].practitioner_id is not None


def test_clinician_account_is_linked_to_a_practitioner(session, seeded):
    doctor = _user(session, "drpatel")
    assert doctor.role == Role.CLINICIAN
    assert session.get(Practitioner, doctor.practitioner_id).name == "Dr. Anika Patel, MD"


def test_caregiver_has_proxy_access_to_two_children_of_one_family(session, seeded, now):
    caregiver = _user(session, "caregiver")
    assert caregiver.role == Role.PROXY
    grants = session.exec(select(ProxyGrant).where(ProxyGrant.user_id == caregiver.id)).all()
    children = [session.get(Patient, g.patient_id) for g in grants]
    assert len(children) == 2
    assert all((now.date() - c.birth_date).days < 18 * 365 for c in children)
    assert {c.family_name for c in children} == {caregiver.display_name.split()[-1]}


def test_seeding_again_updates_instead_of_duplicating(session, seeded, now):
    counts = {m: _count(session, m) for m in (Patient, Observation, User, ProxyGrant)}
    again = seed_demo_clinic(
        session=session, n_patients=PATIENTS, seed=7, now=now, password=PASSWORD
    )
    assert again.report.created == 0 and again.report.quarantined == 0
    assert {m: _count(session, m) for m in counts} == counts


def test_seed_refuses_a_clinic_too_small_for_the_demo_accounts(session, now):
    with pytest.raises(ValueError, match="at least 3"):
        seed_demo_clinic(session=session, n_patients=2, seed=7, now=now, password=PASSWORD)
