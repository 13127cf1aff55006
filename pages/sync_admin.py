"""EHR sync (admin): health, last runs, quarantine with retry, outbox with retry, "Sync now"."""

from datetime import timedelta
from functools import partial

import pandas as pd
import streamlit as st

from components.actions import flash, run_action, show_flash
from components.current_user import current_user
from components.plain_text import alert, md_literal
from components.portal_errors import errors_as_messages
from db.models import QuarantinedResource, User, saved_id
from ehr_sync.jobs import SyncOutcome
from portal.clock import utcnow
from portal.errors import PortalError
from portal.services import sync_admin
from portal.services.unit_of_work import Session, session_scope
from portal.timefmt import format_datetime


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes:,} minutes"
    hours = minutes // 60
    return f"{hours:,} hours" if hours < 48 else f"{hours // 24:,} days"


def _sync_summary(outcome: SyncOutcome) -> tuple[str, str]:
    result = outcome.result
    if result is None:  # sync_once always sets it; said plainly rather than a stack trace
        return ("warning", "The sync did not report a result; see the last runs below.")
    summary = (
        f"Sync finished ({result.status}): {result.total('created')} new, "
        f"{result.total('updated')} updated, {result.total('deleted')} removed, "
        f"{result.total('quarantined')} quarantined."
    )
    if outcome.delivery is not None:
        summary += f" Outbox: {outcome.delivery.sent} sent."
    return ("success" if result.status == "succeeded" else "warning", summary)


def _retry_import(user: User, row_id: int, session: Session) -> sync_admin.RetryResult:
    return sync_admin.retry_quarantined(user, row_id, session=session, now=utcnow())


def _retried(row: QuarantinedResource, retry: sync_admin.RetryResult) -> tuple[str, str]:
    if retry.imported:
        return ("success", f"{row.resource_type}/{row.fhir_id} was imported.")
    return ("warning", f"Still cannot import it: {retry.reason}")


def _refused_sync(error: PortalError) -> bool:
    """A failed sync is said after the redraw, like its success, so the runs table is fresh."""
    flash("error", error.user_message)
    return True


def render() -> None:
    user = current_user()
    st.title("EHR sync")
    show_flash()  # may quote a server's error or a resource id

    now = utcnow()
    with errors_as_messages(), session_scope() as session:
        health = sync_admin.sync_health(user, session=session, now=now)
        runs = sync_admin.recent_runs(user, session=session)
        quarantine = sync_admin.quarantined(user, session=session, now=now)
        outbox = sync_admin.outbox_summary(user, session=session, now=now)

    # --- health ---------------------------------------------------------------------------------
    st.subheader("Health")
    if not health.configured:
        st.info(
            "No EHR is connected. Set FHIR_BASE_URL (and the EHR's sign-in settings) and restart "
            "the "
            "portal; until then the portal shows the data it already holds."
        )
    else:
        st.text(f"EHR: {health.base_url}  ·  a sync every {health.interval_minutes:g} minutes")
        headline = {
            "ok": ("success", "Sync is healthy."),
            "stale": ("warning", "No successful sync for a while. Check the last runs below."),
            "failing": ("error", "The last sync failed. Check its errors below."),
            "never": ("info", "No sync has run yet. Use Sync now, or wait for the schedule."),
        }[health.state]
        alert(*headline)
        if health.state == "failing" and health.outage:
            st.text(health.outage)  # one line: what, since when, next try
    left, right = st.columns(2)
    # age is set exactly when the last success has finished_at (sync_admin.sync_health).
    if (
        health.last_success is not None
        and health.last_success.finished_at
        and health.age is not None
    ):
        left.metric("Last successful sync", f"{_age(health.age)} ago")
        left.caption(format_datetime(health.last_success.finished_at))
    else:
        left.metric("Last successful sync", "never")
    right.metric("Last run", md_literal(health.last_run.status) if health.last_run else "none")
    if health.last_run is not None:
        right.caption(format_datetime(health.last_run.started_at))

    if st.button("Sync now", type="primary", icon=":material/sync:"):
        with st.spinner("Syncing with the EHR ..."):
            run_action(
                lambda s: sync_admin.sync_now(user, session=s, now=utcnow()),
                _sync_summary,
                refused=_refused_sync,
            )

    # --- runs -----------------------------------------------------------------------------------
    st.subheader("Last runs")
    if not runs:
        st.caption("No sync has run yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Started": format_datetime(r.run.started_at),
                        "Trigger": r.run.trigger,
                        "Status": r.run.status,
                        "Fetched": r.run.fetched,
                        "New": r.run.created,
                        "Updated": r.run.updated,
                        "Unchanged": r.run.skipped,
                        "Quarantined": r.run.quarantined,
                        "Removed": r.run.deleted,
                        "Retries": r.run.retries,
                    }
                    for r in runs
                ]
            ),
            hide_index=True,
        )
        for r in runs[:5]:
            with st.expander(
                md_literal(f"Run {r.run.id}: {r.run.status}, {format_datetime(r.run.started_at)}")
            ):
                if r.counts:
                    st.dataframe(pd.DataFrame.from_dict(r.counts, orient="index"))
                else:
                    st.caption("Nothing changed in this run.")
                if r.run.errors:
                    st.text(r.run.errors)  # plain text: server messages are not markdown

    # --- quarantine -----------------------------------------------------------------------------
    st.subheader("Quarantine")
    if not quarantine:
        st.caption("Nothing is quarantined: every resource from the EHR could be imported.")
    else:
        st.caption(
            f"{len(quarantine)} {'resource' if len(quarantine) == 1 else 'resources'} could not be "
            "imported. Fix the cause (in the EHR, or by "
            "updating the portal), then retry."
        )
        for row in quarantine:
            with st.container(border=True):
                received = format_datetime(row.received_at)
                st.text(f"{row.resource_type}/{row.fhir_id} (received {received})")
                st.text(f"Reason: {row.reason}")
                with st.expander("Raw JSON"):
                    st.code(row.raw_json[:20_000], language="json")
                if st.button("Retry import", key=f"quarantine_retry_{row.id}"):
                    run_action(partial(_retry_import, user, saved_id(row)), partial(_retried, row))

    # --- outbox ---------------------------------------------------------------------------------
    st.subheader("Write-back outbox")
    counts = outbox.counts
    st.text(
        f"Sent: {counts.get('sent', 0)}  ·  waiting: {counts.get('pending', 0)}  ·  "
        f"stuck: {counts.get('stuck', 0)}  ·  replaced by a newer change: "
        f"{counts.get('superseded', 0)}"
    )
    if not outbox.problems:
        st.caption("No failed deliveries.")
    for item in outbox.problems:
        with st.container(border=True):
            state = (
                "stuck"
                if item.status == "stuck"
                else f"next try {format_datetime(item.next_attempt_at)}"
            )
            st.text(
                f"{item.kind}: {item.resource_type}/{item.fhir_id} · {item.attempts} tries · "
                f"{state}"
            )
            if item.last_error:
                st.text(f"Last error: {item.last_error}")
            if st.button("Retry delivery", key=f"outbox_retry_{item.id}"):
                run_action(
                    lambda s, item=item: sync_admin.retry_outbox_item(
                        user, item.id, session=s, now=utcnow()
                    ),
                    "Queued again: it goes out with the next sync.",
                )
