"""Audit coverage over the whole service catalogue (issue 15, finding 7).

Services are found by walking ``portal.services`` (as the authorization matrix does), so one
added later is covered without touching this file:

- every service that takes ``(user, patient_id, *, session)`` and returns for someone allowed
  to see that patient leaves an audit entry naming the patient (reads included);
- every public service refused to a patient's account by role (``NotAllowed``) leaves a denied
  audit entry;
- list views (triage inbox, refill queue, patient search, day calendar) name each patient listed,
  so the patient sees it under "Who viewed my record".
"""

import importlib
import inspect
import pkgutil
from datetime import timedelta

import pytest
from sqlmodel import select

import portal.services
from db.models import AuditEvent, Booking, Role, User
from portal.errors import NotAllowed, NotYourRecord, PortalError
from portal.services import audit_log, messages, patients, triage
from portal.services.scheduling import booking
from tests.factories import create_patient, create_practitioner, create_user

# Not entry points: the checker, the audit writers, and this helpers that record on
# behalf of their caller.
NOT_ENTRY_POINTS = {
    "portal.services.access",
    "portal.services.audited_reads",
    "portal.services.audit",
    "portal.services.audit_chain",
    "portal.services.audit_checkpoints",
}
# Not a read of health data on its own, each for a stated reason.
NOT_AUDITED = {
    # A check run inside services that audit what they then do.
    "portal.services.readings.entry.require_writer",
    # Numbers for the navigation badge, on every page run: no content of the record.
    "portal.services.messages.unread_count",
    "portal.services.notifications.unread_count",
    # Which visits already have a check-in form (ids only), beside the audited visit list.
    "portal.services.scheduling.checkin.checked_in_booking_ids",
    # Which of the (audited) recent readings the patient may fix (ids only).
    "portal.services.readings.edits.editable_ids",
    # The banner above a chart page whose opening (open_chart) and read are audited.
    "portal.services.patients.chart_header",
    # Whether the patient has a portal account (the code button's label): no health data; the
    # code issued after it is audited.
    "portal.services.account_codes.next_code_purpose",
}


def _functions():
    for info in pkgutil.walk_packages(portal.services.__path__, "portal.services."):
        if info.name in NOT_ENTRY_POINTS:
            continue
        module = importlib.import_module(info.name)
        for name, func_ in inspect.getmembers(module, inspect.isfunction):
            if func_.__module__ != module.__name__ or name.startswith("_"):
                continue
            params = list(inspect.signature(func_).parameters.values())
            # Whoever acts comes first (user, actor, admin, staff ...), typed as a User.
            acts = bool(params) and params[0].annotation in (User, "User")
            if acts and "session" in {p.name for p in params}:
                yield f"{info.name}.{name}", func_


ALL = sorted(_functions())
PATIENT_SERVICES = [
    (n, f)
    for n, f in ALL
    if list(inspect.signature(f).parameters)[1:2] == ["patient_id"] and n not in NOT_AUDITED
]


NEVER_STORED_ID = 987_654_321


def _call(func_, user, patient_id, session, now):
    kwargs = {}
    params = list(inspect.signature(func_).parameters.values())[1:]
    for param in params:
        if param.name == "session":
            kwargs["session"] = session
        elif param.name == "now":
            kwargs["now"] = now
        elif param.name == "patient_id":
            kwargs["patient_id"] = patient_id
        elif param.default is inspect.Parameter.empty and param.annotation in (int, "int"):
            # A row id that is never stored: the service looks it up and finds nothing (None
            # would ask SQLAlchemy for a NULL primary key, which it warns about).
            kwargs[param.name] = NEVER_STORED_ID
        elif param.default is inspect.Parameter.empty:
            kwargs[param.name] = None
    return func_(user, **kwargs)


def _entries(session, user) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.user_id == user.id)).all())


def test_the_catalogue_is_found_and_every_exception_still_exists():
    assert len(ALL) > 60 and len(PATIENT_SERVICES) > 20
    assert {n for n, _ in ALL} >= NOT_AUDITED


@pytest.mark.parametrize(("name", "func_"), PATIENT_SERVICES, ids=[n for n, _ in PATIENT_SERVICES])
def test_a_service_that_returns_patient_data_audits_it(session, now, name, func_):
    patient = create_patient(session)
    user = create_user(session, Role.CLINICIAN)
    try:
        _call(func_, user, patient.id, session, now)
    except (PortalError, TypeError, AttributeError, ValueError):
        session.rollback()
        # It needed real arguments; the call did not get to the data. Refusals are covered below.
        return
    entries = [e for e in _entries(session, user) if e.patient_id == patient.id]
    assert entries, f"{name} returned for patient {patient.id} without an audit entry"


@pytest.mark.parametrize(("name", "func_"), ALL, ids=[n for n, _ in ALL])
def test_every_refusal_by_role_is_audited(session, now, name, func_):
    patient = create_patient(session)
    user = create_user(session, Role.PATIENT, patient)
    other = create_patient(session)
    try:
        _call(func_, user, other.id, session, now)
    except (NotAllowed, NotYourRecord):
        session.rollback()
        denied = [e for e in _entries(session, user) if e.outcome == "denied"]
        assert denied, f"{name} refused a patient's account without an audit entry"
    except Exception:  # noqa: BLE001 - it needed real arguments: not a refusal
        session.rollback()


def _listed(session, patient_id) -> list[str]:
    return list(
        session.exec(
            select(AuditEvent.category).where(
                AuditEvent.patient_id == patient_id, AuditEvent.action == "read"
            )
        ).all()
    )


def test_list_views_name_each_patient_listed_and_each_sees_it(session, now):
    nurse = create_user(session, Role.NURSE, display_name="Nurse Ann")
    ann = create_patient(session, given_name="Ann", family_name="Listed")
    bob = create_patient(session, given_name="Bob", family_name="Listed")
    for p in (ann, bob):
        messages.start_thread(
            create_user(session, Role.PATIENT, p), p.id, recipient="care_team",
            subject="Hi", body="Hello", session=session, now=now,
        )  # fmt: skip
    triage.list_items(nurse, session=session, now=now)
    triage.list_items(nurse, session=session, now=now, kind="refill")  # empty: one plain entry
    patients.search_patients(nurse, session=session, name="Listed", now=now)
    doctor = create_practitioner(session)
    session.add(
        Booking(
            patient_id=ann.id, practitioner_id=doctor.id, start=now + timedelta(hours=1),
            end=now + timedelta(hours=1, minutes=20), visit_type="follow_up", status="booked",
        )
    )  # fmt: skip
    session.commit()
    booking.day_calendar(
        nurse, session=session, now=now, practitioner_id=doctor.id,
        day_start=now, day_end=now + timedelta(days=1),
    )  # fmt: skip
    assert sorted(_listed(session, ann.id)) == [
        "listed in a patient search",
        "listed in the triage inbox",
        "listed on the day's calendar",
    ]
    assert sorted(_listed(session, bob.id)) == [
        "listed in a patient search",
        "listed in the triage inbox",
    ]
    ann_user = session.exec(
        select(portal.services.users.User).where(portal.services.users.User.patient_id == ann.id)
    ).first()
    seen = audit_log.who_viewed(ann_user, ann.id, session=session, now=now)
    assert {(v.staff_name, v.what) for v in seen} >= {
        ("Nurse Ann", "listed in the triage inbox"),
        ("Nurse Ann", "listed in a patient search"),
    }
    refill_views = session.exec(
        select(AuditEvent.patient_id).where(AuditEvent.category == "listed in the refill queue")
    ).all()
    assert refill_views == [None]  # nobody was on it: the empty view is logged without a patient
