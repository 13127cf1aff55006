from sqlmodel import func, select

from db.models import HealthGoal, PatientReading, Role, TriageItem
from portal.demo.readings import DAYS, seed_home_readings
from tests.factories import create_patient, create_user


def test_demo_readings_are_seeded_once_in_range_with_goals(session, now):
    patient = create_patient(session)
    create_user(session, Role.PATIENT, patient, username="patient")
    create_user(session, Role.CLINICIAN, username="drpatel")
    added = seed_home_readings(session=session, seed=1, now=now)
    assert added == DAYS * 2 + DAYS // 3
    assert seed_home_readings(session=session, seed=1, now=now) == 0
    assert session.exec(select(func.count()).select_from(PatientReading)).one() == added
    # In range by design: the demo inbox is seeded elsewhere.
    assert session.exec(select(TriageItem)).all() == []
    kinds = sorted(g.kind for g in session.exec(select(HealthGoal)).all())
    assert kinds == ["bp_under", "steps_per_day", "weight_at_most"]
