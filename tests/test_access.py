from sqlmodel import select

from db.models import AuditEvent, Role
from portal.errors import NotYourRecord
from portal.services.access import can_view_patient, require_patient_access, viewable_patients
from tests.factories import create_patient, create_user, grant_proxy


def test_patient_sees_only_own_record(session):
    alice, bob = create_patient(session), create_patient(session)
    user = create_user(session, Role.PATIENT, patient=alice)
    assert can_view_patient(user, alice.id, session=session)
    assert not can_view_patient(user, bob.id, session=session)


def test_proxy_sees_only_granted_patients(session):
    child, other = create_patient(session), create_patient(session)
    parent = create_user(session, Role.PROXY)
    grant_proxy(session, parent, child)
    assert [p.id for p in viewable_patients(parent, session=session)] == [child.id]
    assert not can_view_patient(parent, other.id, session=session)


def test_revoked_proxy_grant_gives_no_access(session, now):
    child = create_patient(session)
    parent = create_user(session, Role.PROXY)
    grant_proxy(session, parent, child, revoked_at=now)
    assert not can_view_patient(parent, child.id, session=session)


def test_inactive_staff_sees_nothing(session):
    patient = create_patient(session)
    nurse = create_user(session, Role.NURSE, active=False)
    assert not can_view_patient(nurse, patient.id, session=session)


def test_denied_access_is_audited_and_raises(session):
    alice, bob = create_patient(session), create_patient(session)
    user = create_user(session, Role.PATIENT, patient=alice)
    try:
        require_patient_access(user, bob.id, session=session, category="results")
    except NotYourRecord:
        pass
    else:
        raise AssertionError("access to another patient was not refused")
    session.rollback()
    events = session.exec(select(AuditEvent)).all()
    assert [(e.patient_id, e.outcome) for e in events] == [(bob.id, "denied")]
