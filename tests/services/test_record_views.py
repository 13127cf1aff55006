"""Who viewed my record, in plain words (portal/services/record_views.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from db.models import Role
from portal.errors import NotYourRecord
from portal.services import audit
from portal.services.audit_log import RecordView
from portal.services.record_views import LOOKED_AT, SAW_NAME, group_views, views_by_day
from tests.factories import create_patient, create_user

# 14:05 UTC on Monday 30 Nov 2026 is 9:05 AM in New York (the clinic's zone in tests).
MONDAY = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
STAFF_WORDS = ("triage", "queue", "inbox", "listed", "viewed", "opened", "_")


def _view(minutes: int, what: str, *, name="Ana Lee", role="clinician", staff_id=1):
    return RecordView(
        at=MONDAY + timedelta(minutes=minutes),
        staff_name=name,
        role=role,
        what=what,
        staff_id=staff_id,
    )


def test_one_sentence_per_person_and_day_in_plain_words():
    views = [
        _view(0, "viewed test results"),
        _view(3, "viewed result trend"),
        _view(10, "messages"),
        _view(20, "listed in the triage inbox"),
        _view(30, "viewed health summary", name="Sam Cole", role="front_desk", staff_id=2),
        _view(24 * 60, "opened chart"),
    ]
    days = group_views(views)
    assert [d.sentence() for d in days] == [
        "Ana Lee (clinician) looked at your chart on Tue 1 Dec 2026.",
        "Sam Cole (front desk) looked at your health summary on Mon 30 Nov 2026.",
        "Ana Lee (clinician) looked at your test results and messages and saw your name in the "
        "clinic's list of requests on Mon 30 Nov 2026.",
    ]
    assert (days[2].times, days[2].first, days[2].last) == (4, MONDAY, views[3].at)


def test_a_caregiver_reads_whose_record_it_was():
    [day] = group_views([_view(0, "profile")])
    assert day.sentence("Frank's") == (
        "Ana Lee (clinician) looked at Frank's contact details on Mon 30 Nov 2026."
    )


def test_two_staff_with_one_name_stay_apart():
    days = group_views([_view(0, "messages", staff_id=1), _view(5, "messages", staff_id=7)])
    assert len(days) == 2


def test_no_staff_jargon_in_any_sentence():
    views = [_view(i, what) for i, what in enumerate([*LOOKED_AT, *SAW_NAME])]
    words = " ".join(d.sentence() for d in group_views(views)).lower()
    assert not [w for w in STAFF_WORDS if w in words]


def test_an_unknown_category_is_still_said_plainly():
    [day] = group_views([_view(0, "some new_internal category")])
    assert day.sentence() == "Ana Lee (clinician) looked at your record on Mon 30 Nov 2026."


def test_views_by_day_checks_access_and_reads_the_audit_log(session):
    patient = create_patient(session)
    me = create_user(session, Role.PATIENT, patient)
    stranger = create_user(session, Role.PATIENT, create_patient(session))
    nurse = create_user(session, Role.NURSE, display_name="Nina Park")
    for minutes, category in enumerate(("opened chart", "viewed test results")):
        audit.record(
            session=session,
            actor=nurse,
            category=category,
            action="read",
            patient_id=patient.id,
            now=MONDAY + timedelta(minutes=minutes),
        )
    session.commit()
    [day] = views_by_day(me, patient.id, session=session, now=MONDAY)
    assert day.sentence() == (
        "Nina Park (nurse) looked at your chart and test results on Mon 30 Nov 2026."
    )
    with pytest.raises(NotYourRecord):
        views_by_day(stranger, patient.id, session=session, now=MONDAY)
