"""Staff dashboard: request volume, time to first response, SLA breaches, portal adoption,
no-show rate, open alerts and EHR sync health."""

from datetime import date, datetime, time

import streamlit as st

from components.current_user import current_user
from components.dashboard_charts import no_show_chart, requests_chart
from components.navigation import page
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from portal.clock import utcnow
from portal.config import get_settings
from portal.services import dashboard, no_show, triage
from portal.services.unit_of_work import Session, session_scope
from portal.timefmt import format_date, format_datetime, naive_local, table_datetime_format


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=get_settings().tz)


@st.cache_resource(max_entries=4, ttl=36 * 3600, show_spinner="Training the no-show model...")
def _no_show_model(day: date, version: tuple[int, int, int]) -> no_show.TrainedModel:
    """Trained once a day per process on the history before that day, again only if that
    history changed (``version`` is part of the cache key). The same for every user: no user
    goes in, no record comes out; ``no_show_insight`` checks the permission and audits."""
    with session_scope() as session:
        return no_show.train_on_history(session=session, until=_day_start(day))


def _todays_model(session: Session) -> no_show.TrainedModel:
    today = utcnow().astimezone(get_settings().tz).date()
    return _no_show_model(today, no_show.history_version(session=session, until=_day_start(today)))


def _hours(value: float | None) -> str:
    if value is None:
        return "No responses yet"
    return f"{value * 60:.0f} min" if value < 1 else f"{value:.1f} h"


def _ratio(part: int, whole: int) -> str:
    return f"{part:,} / {whole:,}"


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "no data"


def _rate(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "no data"


def render() -> None:
    user = current_user()
    st.title("Clinic dashboard")
    weeks = st.select_slider(
        "Period", options=[4, 8, 12, 26, 52], value=12, format_func=lambda w: f"Last {w:,} weeks"
    )
    with errors_as_messages(), session_scope() as session:
        data = dashboard.clinic_dashboard(user, session=session, now=utcnow(), weeks=weeks)

    first, sla, adoption, alerts = st.columns(4)
    first.metric(
        "Median first response",
        _hours(data.response.median_hours),
        help="From the request to the first staff action on it (claim, assign, reply, status).",
    )
    sla.metric(
        "SLA breaches",
        _ratio(data.sla.breached, data.sla.total),
        help="Requests first answered after their due time, or still unanswered past it.",
    )
    adoption.metric(
        "Portal accounts",
        _ratio(data.adoption.activated, data.adoption.patients),
        help="Patients with an activated portal account, of all patients.",
    )
    alerts.metric("Open alerts", sum(data.open_alerts.values()))
    st.caption(
        f"SLA breaches: {_percent(data.sla.breached, data.sla.total)} of requests. "
        f"Portal accounts: {_percent(data.adoption.activated, data.adoption.patients)} of "
        "patients; "
        f"{data.adoption.active:,} signed in within the last {dashboard.ACTIVE_DAYS:,} days. "
        f"Weeks start on Monday (UTC); figures from {format_date(data.since.date())}."
    )

    st.subheader("Requests")
    if data.requests_by_week:
        st.altair_chart(requests_chart(data.requests_by_week), width="stretch")
    else:
        st.info("No requests in this period.")
    if data.response.by_kind:
        st.dataframe(
            [
                {
                    "Type": triage.kind_label(kind),
                    "Median first response": _hours(hours),
                    "SLA breaches": data.sla.by_kind.get(kind, 0),
                }
                for kind, hours in data.response.by_kind.items()
            ],
            hide_index=True,
            key="dashboard_response_table",
        )

    st.subheader("No-shows")
    if data.no_shows:
        st.altair_chart(no_show_chart(data.no_shows), width="stretch")
        total = sum(r.visits for r in data.no_shows)
        missed = sum(r.no_shows for r in data.no_shows)
        st.caption(f"{missed} no-shows in {total} past visits ({missed / total:.0%}).")
    else:
        st.info("No past visits in this period.")

    st.subheader("No-show risk, next two weeks")
    with errors_as_messages(), session_scope() as session:
        insight = no_show.no_show_insight(
            user, session=session, now=utcnow(), trained_model=lambda: _todays_model(session)
        )

    model_col, with_col, without_col = st.columns(3)
    model_col.metric(
        "Model AUC (held out)",
        f"{insight.auc:.2f}" if insight.auc is not None else "n/a",
        help="How well the model ranked the newest fifth of past visits it never saw: "
        "0.5 is chance, 1.0 is perfect.",
    )
    with_col.metric("No-shows with a reminder", _rate(insight.rate_with_reminder))
    without_col.metric("No-shows without a reminder", _rate(insight.rate_without_reminder))
    if insight.message:
        st.info(md_literal(insight.message))
    elif not insight.upcoming:
        st.info("No booked visits in the next two weeks.")
    else:
        st.caption(
            f"Trained on {insight.trained_on:,} past visits ({insight.no_shows:,} no-shows): "
            "lead time, earlier no-shows, visit type, weekday, hour and reminders. Visits at "
            f"{no_show.HIGH_RISK:.0%} or more are flagged."
        )
        st.dataframe(
            [
                {
                    "Flag": "⚠ High" if r.high else "",
                    "Patient": r.patient_name,
                    "Visit": naive_local(r.start),
                    "Type": r.visit_type,
                    "Risk": r.risk,
                    "Main reasons": "; ".join(r.reasons),
                }
                for r in insight.upcoming
            ],
            hide_index=True,
            key="dashboard_no_show_risk",
            column_config={
                "Visit": st.column_config.DatetimeColumn("Visit", format=table_datetime_format()),
                "Risk": st.column_config.ProgressColumn(
                    "Risk", format="percent", min_value=0.0, max_value=1.0
                ),
            },
        )

    st.subheader("Open alerts")
    if data.open_alerts:
        for label, count in data.open_alerts.items():
            st.text(f"{label}: {count} open")
        st.page_link(page("triage_inbox"), label="Open the triage inbox", icon=":material/inbox:")
    else:
        st.info("No alert types are set up.")

    st.subheader("EHR sync")
    health = data.sync
    if health.last_run is None:
        st.warning("The EHR sync has not run yet.")
    else:
        run = health.last_run
        words = {"ok": "Succeeded", "partial": "Partly succeeded", "failed": "Failed"}
        state = words.get(health.state, health.state.capitalize())
        message = (
            f"Last run: {state}, started {format_datetime(run.started_at)}"
            + (f", finished {format_datetime(run.finished_at)}" if run.finished_at else "")
            + f". Fetched {run.fetched}, created {run.created}, updated {run.updated}, "
            f"quarantined {run.quarantined}."
        )
        if health.state == "ok":
            st.success(md_literal(message))
        elif health.state == "running":
            st.info(md_literal(message))
        else:
            st.error(md_literal(message))
        if run.errors:
            st.text(run.errors[:2000])
        st.caption(
            "Last successful run: "
            + (format_datetime(health.last_success_at) if health.last_success_at else "never")
            + f". Records waiting in quarantine: {health.open_quarantine:,}."
        )
