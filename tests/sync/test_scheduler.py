"""The scheduler: one leader across threads, processes and replicas; what one tick does."""

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.models import OutboxItem, SyncRun
from ehr_sync import jobs, scheduler
from ehr_sync.locks import make_lock
from portal.config import PROJECT_ROOT, Settings
from portal.services import writeback
from portal.services.scheduling import reminders, waitlist
from tests.sync import fhir_data


@pytest.fixture
def settings(tmp_path) -> Settings:
    """No EHR, state (and SQLite lock files) in a folder of this test's own."""
    return Settings(
        fhir_base_url=None, state_dir=tmp_path, sync_interval_minutes=15, scheduler_enabled=True
    )


class OverlapWatch:
    """A job that notes who ran it and whether two runs ever overlapped."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.running = 0
        self.overlaps = 0
        self.runs: list[str] = []

    def job_for(self, name: str):
        def job():
            with self.mutex:
                self.running += 1
                self.overlaps += self.running > 1
                self.runs.append(name)
            time.sleep(0.01)  # widen the window in which an overlap would show
            with self.mutex:
                self.running -= 1

        return job


def _replica(engine, settings, watch, name):
    leader = make_lock(engine, "test-leader", state_dir=settings.state_dir)
    return scheduler.PortalScheduler(settings, leader=leader, job=watch.job_for(name))


def test_two_schedulers_never_run_the_job_at_once(engine, settings):
    watch = OverlapWatch()
    replicas = [_replica(engine, settings, watch, name) for name in ("a", "b")]
    start = threading.Barrier(2)

    def ticks(replica):
        start.wait()
        for _ in range(15):
            replica.tick()

    threads = [threading.Thread(target=ticks, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert watch.overlaps == 0
    assert len(set(watch.runs)) == 1 and len(watch.runs) == 15  # the leader ran every tick
    leader, follower = sorted(replicas, key=lambda r: -r.ticks_run)
    assert follower.tick() is False

    leader.shutdown()  # the leader stops: the other takes over at its next tick
    assert follower.tick() is True
    assert leader.leader.try_acquire() is False
    follower.shutdown()


_HOLD_LOCK = """
import sys
from sqlalchemy import text
from db.engine import make_engine
from ehr_sync.locks import make_lock
url, schema, state_dir = sys.argv[1:4]
args = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
lock = make_lock(make_engine(url, **args), "test-leader", state_dir=state_dir)
print("leader" if lock.try_acquire() else "follower", flush=True)
sys.stdin.read()  # hold it until the test kills this process
"""


def test_a_leader_process_that_dies_hands_over(engine, settings):
    """Another process holds the lock: this one does not run the job until that one is gone."""
    url = engine.url.render_as_string(hide_password=False)
    schema = ""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    other = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, url, schema, str(settings.state_dir)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "leader"
        watch = OverlapWatch()
        here = _replica(engine, settings, watch, "here")
        assert here.tick() is False and watch.runs == []
    finally:
        other.kill()
        other.wait(timeout=10)
    assert here.tick() is True and watch.runs == ["here"]
    here.shutdown()


def test_tick_runs_the_local_jobs_without_an_ehr(engine, settings, now, monkeypatch):
    called = []
    real_reminders, real_expire = reminders.send_due_reminders, waitlist.expire_offers

    def spy(name, real):
        def wrapper(*, session, now):
            called.append((name, now))
            return real(session=session, now=now)

        return wrapper

    monkeypatch.setattr(reminders, "send_due_reminders", spy("reminders", real_reminders))
    monkeypatch.setattr(waitlist, "expire_offers", spy("waitlist", real_expire))

    report = jobs.run_tick(settings=settings, clock=lambda: now)

    assert sorted(called) == [("reminders", now), ("waitlist", now)]
    assert (report.offers_expired, report.reminders_sent, report.ehr) == (0, 0, "not configured")
    assert report.errors == []


def test_a_failing_local_job_does_not_stop_the_others(engine, settings, now, monkeypatch):
    def broken(*, session, now):
        raise RuntimeError("smtp on fire")

    monkeypatch.setattr(waitlist, "expire_offers", broken)
    report = jobs.run_tick(settings=settings, clock=lambda: now)
    assert report.reminders_sent == 0
    assert report.errors == ["Waitlist offers: RuntimeError: smtp on fire"]


def test_tick_delivers_the_outbox_and_syncs_when_an_ehr_is_configured(
    engine, session, settings, fhir_server, now
):
    fhir_server.load(fhir_data.clinic(2))
    settings.fhir_base_url = fhir_server.base_url
    resource = {"resourceType": "Communication", "id": "comm-1", "status": "completed"}
    resource["identifier"] = [{"system": writeback.PORTAL_SYSTEM, "value": "message/1"}]
    writeback.enqueue(session, kind="message", resource=resource, now=now)
    session.commit()

    report = jobs.run_tick(settings=settings, clock=lambda: now)

    assert report.ehr == "done", report.errors
    assert report.sync.delivery.sent == 1
    assert session.exec(select(OutboxItem)).one().status == "sent"
    run = session.exec(select(SyncRun)).one()
    assert (run.trigger, run.status) == ("schedule", "succeeded")
    assert run.created == sum(fhir_data.expected_counts(2).values())


def test_sync_waits_while_another_holds_the_run_lock(engine, settings, now):
    settings.fhir_base_url = "http://127.0.0.1:9/fhir/R4"
    other = jobs.run_lock(settings)
    assert other.try_acquire()
    try:
        with pytest.raises(jobs.SyncBusy):
            jobs.sync_once(trigger="manual", settings=settings)
        report = jobs.run_tick(settings=settings, clock=lambda: now)
    finally:
        other.release()
    assert report.ehr == "busy" and report.reminders_sent == 0


def test_sync_once_needs_an_ehr(settings):
    with pytest.raises(jobs.NotConfigured):
        jobs.sync_once(trigger="cli", settings=settings)


def test_scheduler_ticks_at_the_configured_interval_and_can_be_turned_off(engine, settings):
    started = scheduler.start_scheduler(settings)
    try:
        job = started.scheduler.get_job(scheduler.JOB_ID)
        assert job.trigger.interval.total_seconds() == 15 * 60
        assert started.scheduler.running
    finally:
        started.shutdown()
    assert (
        scheduler.start_scheduler(settings.model_copy(update={"scheduler_enabled": False})) is None
    )
    assert (
        scheduler.start_scheduler(settings.model_copy(update={"sync_interval_minutes": 0})) is None
    )


def test_the_app_starts_one_scheduler_per_process_across_reruns_and_sessions(engine, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    started = []
    monkeypatch.setattr(scheduler, "start_scheduler", lambda: started.append(1) or "scheduler")
    st.cache_resource.clear()  # an earlier app run in this process may have cached one
    try:
        for _ in range(2):  # two browser sessions, each running the script twice
            at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
            at.run()
            at.run()
    finally:
        st.cache_resource.clear()
    assert started == [1]
