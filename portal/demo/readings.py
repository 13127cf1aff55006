"""The demo patient's home readings and goals: two months of a cuff, a scale and a phone's step
counter, through the real import path (so they show on trends, goals and home monitoring).

Readings stay within the default alert thresholds: the demo's inbox is seeded elsewhere, and a
reading the visitor enters themselves shows how an alert arrives. Seeding twice adds nothing
(the import is idempotent, goals are added only when there are none).
"""

import random
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from db.models import HealthGoal, Observation, ReadingSource, User
from portal.services.readings import entry, goals, units
from portal.services.readings.entry import ReadingInput
from portal.services.readings.units import KG_PER_LB

DAYS = 60


def seed_home_readings(*, session: Session, seed: int, now: datetime) -> int:
    """Add the showcase patient's readings and goals; returns how many readings were added."""
    users = {u.username: u for u in session.exec(select(User)).all()}
    patient_user, doctor = users.get("patient"), users.get("drpatel")
    if patient_user is None or patient_user.patient_id is None:
        return 0
    rng = random.Random(f"home-readings-{seed}")
    patient_id = patient_user.patient_id
    # Mornings in UTC hours 12-14 (clinic morning), the last one yesterday: nothing in the future.
    start = (now - timedelta(days=DAYS)).replace(hour=12, minute=0, second=0, microsecond=0)
    # Start from the clinic's last weight, so the scale and the clinic agree on the trend chart.
    clinic_kg = session.exec(
        select(Observation.value)
        .where(
            Observation.patient_id == patient_id,
            Observation.code == "29463-7",
            col(Observation.value).is_not(None),
        )
        .order_by(col(Observation.effective_at).desc())
        .limit(1)
    ).first()
    start_lb = (clinic_kg or 90) / KG_PER_LB
    items: list[ReadingInput] = []
    for day in range(DAYS):
        morning = start + timedelta(days=day, hours=rng.randint(0, 2))
        systolic = 142 - day * 0.25 + rng.uniform(-6, 6)
        items.append(
            ReadingInput(
                units.BLOOD_PRESSURE,
                round(systolic),
                "mmHg",
                morning,
                value2=round(systolic * 0.62 + rng.uniform(-3, 3)),
            )
        )
        items.append(
            ReadingInput(
                units.STEPS, rng.randint(4500, 10500), "count", morning + timedelta(hours=8)
            )
        )
        if day % 3 == 0:
            pounds = start_lb - day * 0.12 + rng.uniform(-1, 1)
            items.append(ReadingInput(units.WEIGHT, round(pounds, 1), "lb", morning))
    report = entry.import_readings(
        patient_user,
        patient_id,
        items,
        session=session,
        now=now,
        source=ReadingSource.APPLE_HEALTH,
        label="demo export",
    )
    has_goals = session.exec(
        select(HealthGoal.id).where(HealthGoal.patient_id == patient_id).limit(1)
    ).first()
    if not has_goals:
        setter = doctor or patient_user
        for kind, target, target2, unit in (
            ("bp_under", 130, 80, None),
            ("weight_at_most", round(start_lb * 0.93), None, "lb"),
            ("steps_per_day", 8000, None, None),
        ):
            goals.set_goal(
                setter,
                patient_id,
                session=session,
                now=now,
                kind=kind,
                target=target,
                target2=target2,
                unit=unit,
                note="Agreed at the last visit" if setter is doctor else "",
            )
    return report.added
