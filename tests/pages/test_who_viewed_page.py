"""Who viewed my record (pages/who_viewed.py): grouped by person and day, in plain words."""

from datetime import UTC, datetime, timedelta

from db.models import Role
from portal.config import get_settings
from portal.services import audit
from portal.timefmt import format_day
from tests.factories import create_patient, create_user, grant_proxy
from tests.harness import open_app


def _look(session, staff, patient, category, at):
    audit.record(
        session=session, actor=staff, category=category, action="read",
        patient_id=patient.id, now=at,
    )  # fmt: skip


def _clinic_noon_past() -> datetime:
    """The latest clinic-local noon already past: looks spread over ten minutes before it stay on
    one clinic day whatever the wall clock (the page reads the real recent past)."""
    tz = get_settings().tz
    noon = datetime.now(tz).replace(hour=12, minute=0, second=0, microsecond=0)
    if noon > datetime.now(tz):
        noon -= timedelta(days=1)
    return noon.astimezone(UTC)


def test_who_viewed_groups_by_person_and_day_without_staff_words(app_env, session):
    patient = create_patient(session, given_name="Frank", family_name="Fisher")
    create_user(session, Role.PATIENT, patient, username="frank")
    doctor = create_user(session, Role.CLINICIAN, display_name="Ana Lee")
    now = _clinic_noon_past()
    for minutes, category in enumerate(
        ["viewed test results", "messages", "triage", "listed in the triage inbox", "messages"]
    ):
        _look(session, doctor, patient, category, now - timedelta(minutes=10 - minutes))
    session.commit()

    at = open_app("frank", "who_viewed")
    assert [t.value for t in at.text] == [
        "Ana Lee (clinician) looked at your test results, messages and requests to the clinic "
        f"and saw your name in the clinic's list of requests on {format_day(now)}."
    ]
    assert at.main.caption[-1].value.startswith("5 times, between ")
    assert not at.dataframe
    shown = " ".join(t.value for t in at.text).lower()
    assert "triage" not in shown and "inbox" not in shown


def test_a_caregiver_reads_whose_record_was_looked_at(app_env, session):
    patient = create_patient(session, given_name="Frank", family_name="Fisher")
    caregiver = create_user(session, Role.PROXY, username="mum")
    grant_proxy(session, caregiver, patient)
    nurse = create_user(session, Role.NURSE, display_name="Nina Park")
    _look(session, nurse, patient, "profile", datetime.now(UTC))
    session.commit()
    at = open_app("mum", "who_viewed")
    assert at.text[0].value.startswith("Nina Park (nurse) looked at Frank's contact details on ")
