"""Altair charts for the staff dashboard. Data comes in as the dashboard service's rows."""

import altair as alt
import pandas as pd

from portal.services.dashboard import NoShowWeek, WeekCount


def requests_chart(rows: list[WeekCount]) -> alt.Chart:
    """Stacked bars: requests per week, one colour per request type."""
    frame = pd.DataFrame(
        [{"Week": pd.Timestamp(r.week), "Type": r.label, "Requests": r.count} for r in rows]
    )
    chart: alt.Chart = (
        alt.Chart(frame, title="Requests by type and week")
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(Week):O", title="Week starting"),
            y=alt.Y("sum(Requests):Q", title="Requests"),
            color=alt.Color("Type:N", title="Type"),
            tooltip=["Type:N", alt.Tooltip("Week:T", title="Week starting"), "Requests:Q"],
        )
    )
    return chart


def no_show_chart(rows: list[NoShowWeek]) -> alt.Chart:
    """No-show rate per week, one line per visit type."""
    frame = pd.DataFrame(
        [
            {
                "Week": pd.Timestamp(r.week),
                "Visit type": r.label,
                "No-show rate": r.rate,
                "Visits": r.visits,
                "No-shows": r.no_shows,
            }
            for r in rows
        ]
    )
    chart: alt.Chart = (
        alt.Chart(frame, title="No-show rate by week and visit type")
        .mark_line(point=True)
        .encode(
            x=alt.X("Week:T", title="Week starting"),
            y=alt.Y("No-show rate:Q", axis=alt.Axis(format="%"), title="No-show rate"),
            color=alt.Color("Visit type:N"),
            tooltip=[
                "Visit type:N",
                alt.Tooltip("Week:T", title="Week starting"),
                alt.Tooltip("No-show rate:Q", format=".0%"),
                "Visits:Q",
                "No-shows:Q",
            ],
        )
    )
    return chart
