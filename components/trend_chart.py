"""A result over time: line and points, the normal range shaded, out-of-range points marked.

The patient's own readings of the same measure (home devices) share the time axis: dashed lines
and hollow squares, named "... (home)" in the legend, so they are never mistaken for clinic results.

Times are handed to the chart as clinic wall-clock time without a zone, so the browser shows
clinic time whatever zone the viewer is in.
"""

from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from portal.services.results import Trend
from portal.timefmt import format_datetime, naive_local

ABNORMAL_COLOR = "#c62828"
IN_RANGE = "In range"
OUT_OF_RANGE = "Outside range"
CLINIC = "Clinic"
HOME = "Home reading"
CLINIC_COLORS = ["#1565c0", "#7b1fa2"]
HOME_COLORS = ["#64b5f6", "#ce93d8"]
PERIODS = {"all": "All", "year": "Last 12 months", "quarter": "Last 3 months"}
PERIOD_DAYS = {"year": 365, "quarter": 92}
COLUMNS = ["series", "when", "date", "value", "result", "status", "range_status", "origin"]


def points_frame(trend: Trend) -> pd.DataFrame:
    """Every charted point, clinic results and home readings, told apart by ``origin``."""
    rows = [
        {
            "series": series.name,
            "when": naive_local(point.effective_at),
            "date": format_datetime(point.effective_at),
            "value": point.value,
            "result": f"{point.value_text} {series.unit}".strip(),
            "status": (point.flag or IN_RANGE) if origin == CLINIC else HOME,
            "range_status": OUT_OF_RANGE if point.abnormal else IN_RANGE,
            "origin": origin,
        }
        for origin, group in ((CLINIC, trend.series), (HOME, trend.readings))
        for series in group
        for point in series.points
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def band_frame(trend: Trend) -> pd.DataFrame:
    """One row per series with a two-sided normal range (a one-sided range has no band)."""
    return pd.DataFrame(
        [
            {"series": s.name, "low": s.ref_low, "high": s.ref_high}
            for s in trend.series
            if s.points and s.ref_low is not None and s.ref_high is not None
        ],
        columns=["series", "low", "high"],
    )


def build_trend_chart(trend: Trend, since: datetime | None = None) -> alt.LayerChart:
    """The layered chart; kept free of Streamlit calls so it can be tested as a spec.

    ``since`` cuts the time axis (years of clinic history squeeze weeks of home readings).
    """
    home_series = [s for s in trend.readings if s.points]
    names = [s.name for s in trend.series] + [s.name for s in home_series]
    # Home readings take the lighter shade of their clinic series' hue; red stays for "outside
    # range" alone.
    colors = [CLINIC_COLORS[i % len(CLINIC_COLORS)] for i in range(len(trend.series))] + [
        HOME_COLORS[i % len(HOME_COLORS)] for i in range(len(home_series))
    ]
    # Several series (blood pressure, home readings) need a legend; a single one is named by the
    # page.
    series_color = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=names, range=colors),
        # Full-strength symbols: the shaded band shares this legend.
        legend=alt.Legend(orient="bottom", symbolOpacity=1) if len(names) > 1 else None,
    )
    everything = points_frame(trend)
    if since is not None:
        everything = everything[everything["when"] >= naive_local(since)]
    points = everything[everything["origin"] == CLINIC]
    home = everything[everything["origin"] == HOME]
    x = alt.X("when:T", title=None, axis=alt.Axis(format="%-d %b %Y", labelAngle=0))
    unit = trend.series[0].unit or None
    y = alt.Y("value:Q", title=unit, scale=alt.Scale(zero=False))
    tooltip = [
        alt.Tooltip("date:N", title="Date"),
        alt.Tooltip("series:N", title="Test"),
        alt.Tooltip("result:N", title="Result"),
        alt.Tooltip("status:N", title="Flag"),
    ]
    base = alt.Chart(points).encode(x=x, y=y)
    home_base = alt.Chart(home).encode(x=x, y=y)
    line = base.mark_line().encode(color=series_color)
    dots = base.mark_point(filled=True, size=80, opacity=1).encode(
        color=alt.condition(
            alt.datum.range_status == OUT_OF_RANGE, alt.value(ABNORMAL_COLOR), series_color
        ),
        shape=alt.Shape(
            "range_status:N",
            title=None,
            scale=alt.Scale(domain=[IN_RANGE, OUT_OF_RANGE], range=["circle", "triangle-up"]),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = []
    bands = band_frame(trend)
    if not bands.empty:
        layers.append(
            alt.Chart(bands)
            .mark_rect(opacity=0.12)
            .encode(
                y=alt.Y("low:Q", title=unit),
                y2="high:Q",
                # The same encoding as the lines: a legend=None here would hide the shared one.
                color=series_color,
            )
        )
    layers += [line, dots]
    if not home.empty:
        layers += [
            home_base.mark_line(strokeDash=[4, 3], opacity=0.7).encode(color=series_color),
            home_base.mark_point(shape="square", filled=False, size=60, opacity=0.9).encode(
                color=series_color, tooltip=tooltip
            ),
        ]
    return alt.layer(*layers).resolve_scale(color="shared")


def render_trend_chart(trend: Trend) -> None:
    if not trend.has_points:
        st.caption("These results are not numbers, so there is no chart; see the table below.")
        return
    since = None
    if any(s.points for s in trend.readings):
        period = st.segmented_control(
            "Period",
            list(PERIODS),
            default="all",
            format_func=PERIODS.get,
            key=f"trend_period_{trend.code}",
        )
        days = PERIOD_DAYS.get(period or "all")
        since = datetime.now(UTC) - timedelta(days=days) if days else None
    st.altair_chart(build_trend_chart(trend, since), width="stretch")
    if any(s.points for s in trend.readings):
        st.caption(
            "Solid lines and filled dots are clinic results; dashed lines and hollow squares, "
            "marked (home), are readings taken at home."
        )
