"""The periodic jobs' scheduler: one APScheduler BackgroundScheduler per server process.

Every replica starts one, but only the leader does the work: at each tick a replica that is not
leader tries to become it (``pg_try_advisory_lock`` held on a connection of its own on PostgreSQL,
a file lock on SQLite) and skips the tick when another holds it. The leader keeps the lock until
its process or its database link ends, and another replica takes over at its next tick. The jobs
live in memory: APScheduler's shared job stores do not stop two schedulers running one job.

``app.py`` starts it through ``st.cache_resource``, so Streamlit reruns never start a second one.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

import db.engine
from ehr_sync import jobs
from ehr_sync.locks import JobLock, make_lock
from portal.config import Settings, get_settings

log = logging.getLogger(__name__)

JOB_ID = "portal-periodic"
LEADER_LOCK_NAME = "scheduler-leader"
FIRST_TICK_DELAY = timedelta(seconds=30)  # let the server finish starting first


class PortalScheduler:
    """A BackgroundScheduler whose one job runs only while this process is the leader."""

    def __init__(
        self,
        settings: Settings,
        *,
        leader: JobLock | None = None,
        job: Callable[[], object] | None = None,
    ) -> None:
        self.settings = settings
        self.leader = leader or make_lock(
            db.engine.get_engine(), LEADER_LOCK_NAME, state_dir=settings.state_dir
        )
        self.job = job or (lambda: jobs.run_tick(settings=settings))
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self._tick_mutex = threading.Lock()
        self.ticks_run = 0

    def start(self) -> "PortalScheduler":
        interval = timedelta(minutes=self.settings.sync_interval_minutes)
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=interval.total_seconds(),
            id=JOB_ID,
            next_run_time=datetime.now(UTC) + FIRST_TICK_DELAY,
            replace_existing=True,
        )
        self.scheduler.start()
        log.info("scheduler started: a tick every %s", interval)
        return self

    def tick(self) -> bool:
        """Run the job if this process is (or now becomes) the leader; True if it ran."""
        with self._tick_mutex:  # the scheduler's max_instances=1, also for direct calls
            try:
                if not self.leader.try_acquire():
                    return False
            except Exception:
                log.exception("could not reach the database to take the scheduler lock")
                return False
            self.job()
            self.ticks_run += 1
            return True

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.leader.release()


def start_scheduler(settings: Settings | None = None) -> PortalScheduler | None:
    """Start this process's scheduler, or None when it is turned off in the settings."""
    settings = settings or get_settings()
    if not settings.scheduler_enabled or settings.sync_interval_minutes <= 0:
        log.info("scheduler off (SCHEDULER_ENABLED / SYNC_INTERVAL_MINUTES)")
        return None
    return PortalScheduler(settings).start()
