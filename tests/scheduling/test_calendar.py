"""The one calendar (portal/services/scheduling/calendar.py): portal bookings, front-desk bookings
and EHR appointments merged once, for the patient and for a provider's day."""

from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import AuditEvent
from portal.errors import NotAllowed
from portal.services.audited_reads import LISTED_ON_CALENDAR
from portal.services.scheduling import booking, calendar
from portal.services.scheduling.booking import VisitRow
from portal.services.scheduling.ehr_visits import EhrVisit
from tests.factories_records import create_appointment
from tests.scheduling.conftest import WED_9AM

THU_9AM = WED_9AM + timedelta(days=1)


def _titles(entries) -> list[str]:
    return [e.title for e in entries]


def _setup(session, now, clinic):
    mine = booking.book(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.smith.id,
        start=THU_9AM,
        visit_type="annual",
    )
    by_desk = booking.book(
        clinic.staff,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.jones.id,
        start=THU_9AM + timedelta(days=1),
        visit_type="follow_up",
    )
    ehr = create_appointment(
        session,
        clinic.alice,
        service_type="Diabetes check",
        practitioner_id=clinic.smith.id,
        start=THU_9AM + timedelta(hours=1),
        end=THU_9AM + timedelta(hours=1, minutes=20),
        status="booked",
    )
    # The patient's own booking, written back and synced again: shown once.
    create_appointment(
        session,
        clinic.alice,
        service_type="Annual physical",
        practitioner_id=clinic.smith.id,
        start=THU_9AM,
        status="booked",
    )
    create_appointment(
        session,
        clinic.alice,
        service_type="Old visit",
        practitioner_id=clinic.smith.id,
        start=now - timedelta(days=30),
        status="fulfilled",
    )
    return mine, by_desk, ehr


def test_patient_calendar_merges_every_booked_visit_once_soonest_first(session, now, clinic):
    _setup(session, now, clinic)
    cal = calendar.patient_calendar(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert _titles(cal.upcoming) == [
        "Annual physical with Dr. Smith",
        "Diabetes check with Dr. Smith",
        "Follow-up visit with Dr. Jones",
    ]
    assert [type(e) for e in cal.upcoming] == [VisitRow, EhrVisit, VisitRow]
    assert _titles(cal.past) == ["Old visit with Dr. Smith"]
    assert len(cal.upcoming_bookings) == 2


def test_provider_day_holds_portal_and_ehr_visits_with_the_patient_name(session, now, clinic):
    _setup(session, now, clinic)
    day = calendar.practitioner_day(
        clinic.staff,
        session=session,
        now=now,
        practitioner_id=clinic.smith.id,
        day_start=THU_9AM - timedelta(hours=9),
        day_end=THU_9AM + timedelta(hours=15),
    )
    assert _titles(day) == ["Annual physical with Dr. Smith", "Diabetes check with Dr. Smith"]
    assert [e.patient_name for e in day] == ["Alice Ames", "Alice Ames"]
    jones = calendar.practitioner_day(
        clinic.staff,
        session=session,
        now=now,
        practitioner_id=clinic.jones.id,
        day_start=THU_9AM + timedelta(hours=15),
        day_end=THU_9AM + timedelta(hours=39),
    )
    assert _titles(jones) == ["Follow-up visit with Dr. Jones"]


def test_another_patients_visit_at_the_same_time_is_not_taken_for_a_written_back_copy(
    session, now, clinic
):
    booking.book(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.smith.id,
        start=THU_9AM,
        visit_type="annual",
    )
    create_appointment(
        session,
        clinic.bob,
        service_type="Bob's EHR visit",
        practitioner_id=clinic.smith.id,
        start=THU_9AM,
        status="booked",
    )
    day = calendar.practitioner_day(
        clinic.staff,
        session=session,
        now=now,
        practitioner_id=clinic.smith.id,
        day_start=THU_9AM - timedelta(hours=9),
        day_end=THU_9AM + timedelta(hours=15),
    )
    assert [e.patient_name for e in day] == ["Alice Ames", "Bob Burns"]
    # Both patients were listed to staff: each has the read on their access log.
    listed = session.exec(
        select(AuditEvent.patient_id).where(AuditEvent.category == LISTED_ON_CALENDAR)
    ).all()
    assert set(listed) == {clinic.alice.id, clinic.bob.id}


def test_patients_cannot_read_a_provider_day(session, now, clinic):
    with pytest.raises(NotAllowed):
        calendar.practitioner_day(
            clinic.alice_user,
            session=session,
            now=now,
            practitioner_id=clinic.smith.id,
            day_start=now,
            day_end=now + timedelta(days=1),
        )
