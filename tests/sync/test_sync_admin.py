"""EHR sync administration: the services (admins only, audited) and the page, driven by AppTest."""

import json
from datetime import timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.models import (
    AuditEvent,
    Observation,
    OutboxItem,
    OutboxStatus,
    QuarantinedResource,
    Role,
    SyncRun,
)
from ehr_sync import jobs
from ehr_sync.importer import import_resources
from portal.config import get_settings
from portal.errors import NotAllowed
from portal.services import sync_admin
from tests.factories import create_user
from tests.harness import force_page, menu, menu_paths, open_app
from tests.sync import fhir_data


@pytest.fixture
def no_ehr(monkeypatch, tmp_path):
    monkeypatch.delenv("FHIR_BASE_URL", raising=False)
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def with_ehr(no_ehr, monkeypatch, fhir_server):
    monkeypatch.setenv("FHIR_BASE_URL", fhir_server.base_url)
    get_settings.cache_clear()
    return fhir_server


@pytest.fixture
def admin(session):
    return create_user(session, Role.ADMIN, username="admin1")


def _run(session, status: str, started, **counts) -> SyncRun:
    run = SyncRun(
        status=status,
        trigger="schedule",
        started_at=started,
        finished_at=started + timedelta(seconds=5),
        counts_json=json.dumps({"Patient": {"fetched": 2, "created": 2}, "Condition": {}}),
        **counts,
    )
    session.add(run)
    session.commit()
    return run


def _quarantine_an_observation(session, now) -> QuarantinedResource:
    """An Observation whose Patient has not arrived: quarantined until it has."""
    import_resources([fhir_data.glucose(1, 0)], session=session, now=now)
    return session.exec(select(QuarantinedResource)).one()


def _stuck_item(session, now) -> OutboxItem:
    item = OutboxItem(
        kind="message",
        resource_type="Communication",
        fhir_id="c-1",
        payload="{}",
        status=OutboxStatus.STUCK,
        attempts=12,
        next_attempt_at=now,
        last_error="HTTP 400: <b>bad</b>",
    )
    session.add(item)
    session.commit()
    return item


def _audit_actions(session) -> list[tuple[str, str]]:
    events = session.exec(
        select(AuditEvent).where(AuditEvent.category == "ehr_sync").order_by(AuditEvent.id)
    ).all()
    return [(e.action, e.detail) for e in events]


# --- services ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINICIAN, Role.FRONT_DESK])
def test_only_admins_may_use_the_sync_services(session, now, role, no_ehr):
    user = create_user(session, role)
    calls = [
        lambda: sync_admin.sync_health(user, session=session, now=now),
        lambda: sync_admin.recent_runs(user, session=session),
        lambda: sync_admin.quarantined(user, session=session, now=now),
        lambda: sync_admin.outbox_summary(user, session=session, now=now),
        lambda: sync_admin.retry_quarantined(user, 1, session=session, now=now),
        lambda: sync_admin.retry_outbox_item(user, 1, session=session, now=now),
        lambda: sync_admin.sync_now(user, session=session, now=now),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()


def test_health_reports_age_of_the_last_success_and_failures(session, admin, now, with_ehr):
    assert sync_admin.sync_health(admin, session=session, now=now).state == "never"
    _run(session, "succeeded", now - timedelta(minutes=10))
    health = sync_admin.sync_health(admin, session=session, now=now)
    assert health.state == "ok"
    assert health.age == timedelta(minutes=10) - timedelta(seconds=5)

    stale = sync_admin.sync_health(admin, session=session, now=now + timedelta(hours=2))
    assert stale.state == "stale"
    _run(session, "failed", now - timedelta(minutes=1))
    failing = sync_admin.sync_health(admin, session=session, now=now)
    assert failing.state == "failing" and failing.last_success.status == "succeeded"


def test_health_without_an_ehr_says_not_configured(session, admin, now, no_ehr):
    assert sync_admin.sync_health(admin, session=session, now=now).state == "not configured"


def test_recent_runs_keep_the_counts_of_types_that_did_something(session, admin, now, no_ehr):
    _run(session, "succeeded", now)
    [row] = sync_admin.recent_runs(admin, session=session)
    assert row.counts == {"Patient": {"fetched": 2, "created": 2}}


def test_retry_imports_a_quarantined_resource_after_the_fix(session, admin, now, no_ehr):
    row = _quarantine_an_observation(session, now)
    assert "Patient/pat-1" in row.reason
    assert [q.id for q in sync_admin.quarantined(admin, session=session, now=now)] == [row.id]
    import_resources([fhir_data.patient(1)], session=session, now=now)  # the fix

    result = sync_admin.retry_quarantined(admin, row.id, session=session, now=now)

    assert result.imported and result.reason is None
    assert session.exec(select(Observation).where(Observation.fhir_id == "obs-1-0")).one()
    assert sync_admin.quarantined(admin, session=session, now=now) == []
    assert ("retry", f"quarantine {row.id} Observation/obs-1-0: imported") in _audit_actions(
        session
    )


def test_retry_that_still_fails_keeps_it_quarantined_with_the_reason(session, admin, now, no_ehr):
    row = _quarantine_an_observation(session, now)

    result = sync_admin.retry_quarantined(admin, row.id, session=session, now=now)

    assert not result.imported and "Patient/pat-1" in result.reason
    [open_row] = sync_admin.quarantined(admin, session=session, now=now)
    assert open_row.id != row.id and open_row.fhir_id == "obs-1-0"


def test_stuck_outbox_item_is_listed_and_can_be_queued_again(session, admin, now, no_ehr):
    item = _stuck_item(session, now - timedelta(days=1))
    summary = sync_admin.outbox_summary(admin, session=session, now=now)
    assert summary.counts["stuck"] == 1 and [p.id for p in summary.problems] == [item.id]

    sync_admin.retry_outbox_item(admin, item.id, session=session, now=now)

    session.refresh(item)
    assert (item.status, item.attempts, item.next_attempt_at) == ("pending", 0, now)
    assert ("retry", f"outbox {item.id} Communication/c-1") in _audit_actions(session)


def test_sync_now_without_an_ehr_says_so(session, admin, now, no_ehr):
    with pytest.raises(sync_admin.SyncNotConfigured):
        sync_admin.sync_now(admin, session=session, now=now)


def test_sync_now_runs_a_sync_and_is_audited(session, admin, now, with_ehr):
    with_ehr.load(fhir_data.clinic(2))

    outcome = sync_admin.sync_now(admin, session=session, now=now)

    assert outcome.result.status == "succeeded"
    assert session.exec(select(SyncRun)).one().trigger == "manual"
    assert ("sync", "sync now") in _audit_actions(session)


def test_sync_now_while_another_sync_runs_is_refused(session, admin, now, with_ehr):
    other = jobs.run_lock(get_settings())
    assert other.try_acquire()
    try:
        with pytest.raises(sync_admin.SyncAlreadyRunning):
            sync_admin.sync_now(admin, session=session, now=now)
    finally:
        other.release()


# --- the page ---------------------------------------------------------------------------------


def _open(username: str) -> AppTest:
    return open_app(username, "sync_admin", timeout=60)


def _click(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    button.click()
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    return "\n".join([t.value for t in at.text] + [c.value for c in at.caption])


def test_admin_navigation_has_the_sync_page_and_no_other_role_does(monkeypatch):
    def paths(role):
        return menu_paths(role)

    assert "pages/sync_admin.py" in menu(Role.ADMIN)["Administration"]
    for role in Role:
        if role != Role.ADMIN:
            assert "pages/sync_admin.py" not in paths(role), role


def test_page_without_an_ehr_explains_and_sync_now_says_why_not(app_env, session, no_ehr):
    create_user(session, Role.ADMIN, username="admin1")
    at = _open("admin1")

    assert [s.value for s in at.subheader] == [
        "Health",
        "Last runs",
        "Quarantine",
        "Write-back outbox",
    ]
    assert "No EHR is connected" in at.info[0].value
    assert "No failed deliveries." in _texts(at) and "Nothing is quarantined" in _texts(at)
    _click(at, "Sync now")
    assert "No EHR is connected, so there is nothing to sync" in at.error[0].value


def test_page_sync_now_runs_a_sync_and_lists_it(app_env, session, with_ehr):
    create_user(session, Role.ADMIN, username="admin1")
    with_ehr.load(fhir_data.clinic(2))
    at = _open("admin1")
    assert "No sync has run yet." in at.info[0].value

    _click(at, "Sync now")

    created = sum(fhir_data.expected_counts(2).values())
    assert at.success[0].value.startswith(f"Sync finished (succeeded): {created} new")
    assert "Sync is healthy." in [s.value for s in at.success]
    runs = at.dataframe[0].value
    assert list(runs["Status"]) == ["succeeded"] and list(runs["New"]) == [created]


def test_page_retries_quarantine_and_outbox_items(app_env, session, now, no_ehr):
    create_user(session, Role.ADMIN, username="admin1")
    _quarantine_an_observation(session, now)
    item = _stuck_item(session, now)
    at = _open("admin1")
    assert "Reason: Refers to Patient/pat-1" in _texts(at)
    assert "Last error: HTTP 400: <b>bad</b>" in _texts(at)  # plain text, not HTML

    _click(at, "Retry delivery")
    assert at.success[0].value == "Queued again: it goes out with the next sync."
    session.refresh(item)
    assert item.status == "pending"

    _click(at, "Retry import")
    assert at.warning[0].value.startswith("Still cannot import it: Refers to Patient/pat-1")


def test_page_refuses_a_nurse_who_reaches_it(app_env, session, no_ehr):
    create_user(session, Role.NURSE, username="nurse1")
    at = force_page("nurse1", "sync_admin")
    assert [e.value for e in at.error] == ["Only administrators can manage the EHR sync."]
    assert not at.button and not at.dataframe


def test_page_shows_the_outage_line_of_a_run_that_could_not_reach_the_ehr(
    app_env, session, now, monkeypatch, no_ehr
):
    monkeypatch.setenv("FHIR_BASE_URL", "http://127.0.0.1:9/fhir/R4")
    get_settings.cache_clear()
    create_user(session, Role.ADMIN, username="admin1")
    outage = (
        "The EHR at http://127.0.0.1:9/fhir/R4 refused the connection ([Errno 111] Connection "
        "refused); failing since 24 Nov 2026, 9:50 AM; next try at 24 Nov 2026, 10:15 AM."
    )
    _run(session, "failed", now - timedelta(minutes=1), errors=outage)

    at = _open("admin1")

    assert "The last sync failed. Check its errors below." in [e.value for e in at.error]
    assert outage in _texts(at)
