"""A small clinic with two providers' weekly templates, shared by the scheduling tests."""

from dataclasses import dataclass
from datetime import UTC, datetime, time

import pytest

from db.models import Patient, Practitioner, Role, ScheduleTemplate, User
from tests.factories import create_patient, create_practitioner, create_user

# Wednesday 25 Nov 2026, 9:00 in New York (the default clinic zone): the day after NOW.
WED_9AM = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@dataclass
class Clinic:
    smith: Practitioner  # annual + follow-up, in person and video
    jones: Practitioner  # follow-up only, in person only
    alice: Patient
    bob: Patient
    alice_user: User
    bob_user: User
    staff: User


def add_template(session, practitioner, **fields) -> ScheduleTemplate:
    template = ScheduleTemplate(
        practitioner_id=practitioner.id,
        weekday=fields.pop("weekday", 2),
        start_time=fields.pop("start_time", time(9, 0)),
        end_time=fields.pop("end_time", time(12, 0)),
        slot_minutes=fields.pop("slot_minutes", 20),
        **fields,
    )
    session.add(template)
    session.commit()
    return template


@pytest.fixture
def clinic(session) -> Clinic:
    smith = create_practitioner(session, name="Dr. Smith")
    jones = create_practitioner(session, name="Dr. Jones")
    for weekday in range(5):
        add_template(session, smith, weekday=weekday, visit_types="annual,follow_up", video=True)
        add_template(session, jones, weekday=weekday, visit_types="follow_up")
    alice = create_patient(session, given_name="Alice", family_name="Ames", email="a@x.test")
    bob = create_patient(session, given_name="Bob", family_name="Burns")
    return Clinic(
        smith=smith,
        jones=jones,
        alice=alice,
        bob=bob,
        alice_user=create_user(session, Role.PATIENT, alice, email="alice@x.test"),
        bob_user=create_user(session, Role.PATIENT, bob),
        staff=create_user(session, Role.FRONT_DESK),
    )
