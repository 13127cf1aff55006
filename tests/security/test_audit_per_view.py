"""Issue 17: one audit entry per view, not per rerun; every distinct read is still audited.
Refusals and writes are always logged."""

from sqlmodel import func, select

from db.models import AuditEvent, Role
from portal.services import audit, audit_views, audited_reads
from tests.factories import create_patient, create_user
from tests.harness import goto, open_app, run_ok
from tests.requests.helpers import make_clinic


def _count(session, category: str) -> int:
    session.expire_all()
    return session.exec(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.category == category)
    ).one()


def _read(session, user, patient_id, detail=None):
    audited_reads.log_read(
        user, patient_id, session=session, category="viewed test results", detail=detail
    )


def test_reruns_of_one_view_log_a_read_once_and_each_distinct_read_once(session):
    nurse = create_user(session, Role.NURSE)
    first, second = create_patient(session), create_patient(session)
    view: set = set()
    with audit_views.one_entry_per_view(view):
        _read(session, nurse, first.id)
        _read(session, nurse, first.id)  # a rerun
        _read(session, nurse, second.id)  # another patient: a new entry
        _read(session, nurse, first.id, detail="HbA1c")  # another resource: a new entry
    assert _count(session, "viewed test results") == 3
    with audit_views.one_entry_per_view(set()):  # a new view of the same patient
        _read(session, nurse, first.id)
    assert _count(session, "viewed test results") == 4


def test_refusals_and_writes_are_logged_on_every_run_even_in_a_view(session):
    nurse = create_user(session, Role.NURSE)
    with audit_views.one_entry_per_view(set()):
        for _ in range(2):
            audit.record(
                session=session, actor=nurse, category="c", action="read", outcome="denied"
            )
            audit.record(session=session, actor=nurse, category="c", action="update")
            session.commit()
    assert _count(session, "c") == 4


def test_outside_a_view_every_read_is_logged(session):
    nurse = create_user(session, Role.NURSE)
    patient = create_patient(session)
    _read(session, nurse, patient.id)
    _read(session, nurse, patient.id)
    assert _count(session, "viewed test results") == 2


def test_a_read_whose_entry_was_rolled_back_is_logged_again(session):
    nurse = create_user(session, Role.NURSE)
    patient = create_patient(session)
    view: set = set()
    with audit_views.one_entry_per_view(view):
        key = ("read", nurse.id, patient.id, "viewed test results", None)
        audit_views.mark_when_committed(session, key)
        audit.record(session=session, actor=nurse, category="x", action="read")
        session.rollback()
        session.commit()  # a later commit must not mark the rolled-back read
        assert view == set()
        _read(session, nurse, patient.id)
        assert key in view
    assert _count(session, "viewed test results") == 1


def test_list_views_log_the_same_list_once_per_view(session):
    nurse = create_user(session, Role.NURSE)
    patients = [create_patient(session).id for _ in range(2)]
    with audit_views.one_entry_per_view(set()):
        for _ in range(3):
            audit.record_listed(
                session=session, actor=nurse, category="listed in x", patient_ids=patients
            )
            session.commit()
        audit.record_listed(
            session=session, actor=nurse, category="listed in x", patient_ids=patients[:1]
        )
        session.commit()
    assert _count(session, "listed in x") == 3  # two patients once, then the shorter list


def test_rerunning_home_does_not_audit_again_but_coming_back_does(app_env, session):
    clinic = make_clinic(session)
    at = open_app(clinic.alice_user.username)
    home = _count(session, audited_reads.VIEWED_HOME)
    assert home == 1
    total = _count_all(session)
    run_ok(at)  # a rerun of the same view (a widget change, the same link clicked)
    run_ok(at)
    assert _count(session, audited_reads.VIEWED_HOME) == 1
    assert _count_all(session) == total
    goto(at, "messages")
    goto(at, "home")
    assert _count(session, audited_reads.VIEWED_HOME) == 2


def _count_all(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(AuditEvent)).one()
