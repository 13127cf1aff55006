"""The staff dashboard figures, each from grouped SQL, on SQLite and PostgreSQL."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from db.models import (
    AuthSession,
    Booking,
    QuarantinedResource,
    Role,
    SyncRun,
    TriageEvent,
    TriageItem,
)
from portal.errors import NotAllowed
from portal.services import dashboard, triage
from tests.factories import create_patient, create_practitioner, create_user
from tests.requests.helpers import make_clinic

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday; its week starts Monday 23 Nov
_ref = itertools.count(1)


def item(session, patient, kind, created, *, due_hours=8, status="new", first_by=None, after=None):
    row = TriageItem(
        kind=kind,
        ref_id=next(_ref),
        patient_id=patient.id,
        status=status,
        created_at=created,
        updated_at=created,
        due_at=created + timedelta(hours=due_hours),
    )
    session.add(row)
    session.flush()
    session.add(TriageEvent(item_id=row.id, at=created, action="created"))
    if first_by is not None:
        session.add(
            TriageEvent(
                item_id=row.id, at=created + after, actor_user_id=first_by.id, action="claimed"
            )
        )
        # A later action does not change the first response.
        session.add(
            TriageEvent(
                item_id=row.id,
                at=created + after + timedelta(hours=50),
                actor_user_id=first_by.id,
                action="status_changed",
            )
        )
    session.commit()
    return row


def booking(session, patient, practitioner, start, status, visit_type="follow_up"):
    session.add(
        Booking(
            patient_id=patient.id,
            practitioner_id=practitioner.id,
            start=start,
            end=start + timedelta(minutes=20),
            visit_type=visit_type,
            status=status,
        )
    )
    session.commit()


def test_dashboard_is_for_staff_only(session):
    clinic = make_clinic(session)
    with pytest.raises(NotAllowed):
        dashboard.clinic_dashboard(clinic.alice_user, session=session, now=NOW)
    assert dashboard.clinic_dashboard(clinic.nurse, session=session, now=NOW).since == datetime(
        2026, 9, 7, tzinfo=UTC
    )


def test_requests_by_type_and_week_with_monday_weeks(session):
    clinic = make_clinic(session)
    p = clinic.alice
    item(session, p, "message", datetime(2026, 11, 23, 0, 30, tzinfo=UTC))  # Monday
    item(session, p, "message", datetime(2026, 11, 22, 23, 59, tzinfo=UTC))  # Sunday before
    item(session, p, "message", datetime(2026, 11, 16, 9, tzinfo=UTC))
    item(session, p, "refill", datetime(2026, 11, 24, 9, tzinfo=UTC))
    item(session, p, "refill", datetime(2025, 1, 1, tzinfo=UTC))  # before the window

    rows = dashboard.requests_by_week(session, datetime(2026, 9, 7, tzinfo=UTC))

    assert [(r.week, r.kind, r.count) for r in rows] == [
        (date(2026, 11, 16), "message", 2),
        (date(2026, 11, 23), "message", 1),
        (date(2026, 11, 23), "refill", 1),
    ]
    assert rows[-1].label == "Refill"


def test_median_first_response_counts_only_staff_and_the_first_action(session):
    clinic = make_clinic(session)
    p, nurse = clinic.alice, clinic.nurse
    start = datetime(2026, 11, 2, 14, tzinfo=UTC)
    item(session, p, "message", start, first_by=nurse, after=timedelta(hours=1))
    item(session, p, "message", start, first_by=nurse, after=timedelta(hours=3))
    item(session, p, "refill", start, first_by=clinic.doctor, after=timedelta(hours=10))
    item(session, p, "refill", start)  # unanswered: not in the median
    # A patient's own follow-up is not a response.
    item(session, p, "message", start, first_by=clinic.alice_user, after=timedelta(minutes=5))

    times = dashboard.response_times(session, datetime(2026, 9, 7, tzinfo=UTC))

    assert times.answered == 3
    assert times.median_hours == pytest.approx(3.0)
    assert times.by_kind == {"message": pytest.approx(2.0), "refill": pytest.approx(10.0)}


def test_sla_breaches_count_late_answers_and_unanswered_overdue_items(session):
    clinic = make_clinic(session)
    p, nurse = clinic.alice, clinic.nurse
    start = datetime(2026, 11, 23, 14, tzinfo=UTC)
    item(session, p, "message", start, due_hours=8, first_by=nurse, after=timedelta(hours=2))
    item(session, p, "message", start, due_hours=8, first_by=nurse, after=timedelta(hours=9))
    item(session, p, "refill", start, due_hours=8)  # due 22:00 Monday, still unanswered: breach
    item(session, p, "refill", NOW - timedelta(hours=1), due_hours=8)  # not yet due

    sla = dashboard.sla_breaches(session, datetime(2026, 9, 7, tzinfo=UTC), NOW)

    assert (sla.total, sla.breached) == (4, 2)
    assert sla.by_kind == {"message": 1, "refill": 1}
    assert sla.rate == pytest.approx(0.5)


def test_adoption_counts_patients_accounts_and_recent_sign_ins(session):
    clinic = make_clinic(session)  # Alice and Bob have accounts
    create_patient(session)  # no account
    inactive = create_patient(session)
    create_user(session, Role.PATIENT, patient=inactive, active=False)
    session.add(AuthSession(token_hash="a" * 64, user_id=clinic.alice_user.id, last_seen_at=NOW))
    session.add(
        AuthSession(
            token_hash="b" * 64,
            user_id=clinic.bob_user.id,
            last_seen_at=NOW - timedelta(days=31),
        )
    )
    session.add(AuthSession(token_hash="c" * 64, user_id=clinic.nurse.id, last_seen_at=NOW))
    session.commit()

    result = dashboard.adoption(session, NOW)

    assert (result.patients, result.activated, result.active) == (4, 2, 1)
    assert result.activated_share == pytest.approx(0.5)


def test_no_show_rate_by_week_and_visit_type_ignores_future_and_cancelled(session):
    clinic = make_clinic(session)
    doc = create_practitioner(session)
    p = clinic.alice
    monday = datetime(2026, 11, 16, 14, tzinfo=UTC)
    booking(session, p, doc, monday, "no_show")
    booking(session, p, doc, monday + timedelta(hours=1), "completed")
    booking(session, p, doc, monday + timedelta(hours=2), "arrived")
    booking(session, p, doc, monday + timedelta(hours=3), "cancelled")
    booking(session, p, doc, monday + timedelta(hours=4), "no_show", visit_type="annual")
    booking(session, p, doc, NOW + timedelta(days=1), "booked")

    rows = dashboard.no_show_rates(session, datetime(2026, 9, 7, tzinfo=UTC), NOW)

    assert [(r.week, r.visit_type, r.visits, r.no_shows) for r in rows] == [
        (date(2026, 11, 16), "annual", 1, 1),
        (date(2026, 11, 16), "follow_up", 3, 1),
    ]
    assert rows[1].rate == pytest.approx(1 / 3)
    assert rows[0].label == "Annual physical"


def test_open_alerts_count_open_items_of_alert_kinds_only(session, monkeypatch):
    clinic = make_clinic(session)
    triage.kinds()  # the real kinds first, so the test kind is added on top
    monkeypatch.setitem(
        triage._KINDS, "test_alert", triage.KindSpec(kind="test_alert", label="Test alert")
    )
    kinds = dashboard.alert_kinds()
    assert "test_alert" in kinds and "message" not in kinds
    item(session, clinic.alice, "test_alert", NOW - timedelta(hours=2))
    item(session, clinic.alice, "test_alert", NOW - timedelta(hours=3))
    item(session, clinic.alice, "test_alert", NOW - timedelta(hours=2), status="closed")
    item(session, clinic.alice, "message", NOW - timedelta(hours=2))

    alerts = dashboard.open_alerts(session)

    assert alerts["Test alert"] == 2
    assert sum(alerts.values()) == 2


def test_sync_health_reports_last_run_last_success_and_quarantine(session):
    health = dashboard.sync_health(session)
    assert (health.state, health.last_success_at, health.open_quarantine) == ("never", None, 0)
    ok_end = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
    session.add(
        SyncRun(
            status="succeeded",
            started_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
            finished_at=ok_end,
        )
    )
    session.add(
        SyncRun(
            status="failed",
            started_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
            finished_at=datetime(2026, 11, 24, 12, 1, tzinfo=UTC),
            errors="Patient: timed out",
        )
    )
    session.add(QuarantinedResource(reason="bad", raw_json="{}"))
    session.add(QuarantinedResource(reason="bad", raw_json="{}", resolved_at=NOW))
    session.commit()

    health = dashboard.sync_health(session)

    assert health.state == "failed"
    assert health.last_run.errors == "Patient: timed out"
    assert health.last_success_at == ok_end
    assert health.open_quarantine == 1


def test_dashboard_runs_a_fixed_number_of_queries_whatever_the_volume(session, engine):
    clinic = make_clinic(session)
    doc = create_practitioner(session)

    def count_queries(callable_) -> int:
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            callable_()
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(statements)

    def run():
        dashboard.clinic_dashboard(clinic.nurse, session=session, now=NOW)

    few = count_queries(run)
    for n in range(30):
        created = NOW - timedelta(days=n, hours=3)
        item(session, clinic.alice, "message", created, first_by=clinic.nurse, after=timedelta(1))
        booking(session, clinic.alice, doc, created, "no_show")
    assert count_queries(run) == few
