"""A result over time: line and points, the normal range shaded, out-of-range points marked.

The patient's own readings of the same measure (home devices) share the time axis: dashed lines
and hollow squares, named "... (home)" in the legend, so they are never mistaken for clinic results.

Times are handed to the chart as clinic wall-clock time without a zone, so the browser shows
clinic time whatever zone the viewer is in.

The normal range is shaded for one-sided ranges too ("100 or less" runs from the bottom of the
axis, "60 or more" to its top), and a caption says the range in words. Long series are thinned
for drawing (portal/services/results_downsample.py). The chart spec is built once per distinct
data and cached (keyed by the data only, never by who looks: the service call before it checks
access and audits every view).
"""

import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from components.plain_text import md_literal
from portal.clock import utcnow
from portal.services.result_numbers import format_number
from portal.services.results import Trend, TrendPoint, TrendSeries
from portal.services.results_downsample import thin_points
from portal.timefmt import format_datetime, naive_local

ABNORMAL_COLOR = "#c62828"
# The "In range" legend symbol when several series (systolic, diastolic) each have their colour.
NEUTRAL_COLOR = "#455a64"
IN_RANGE = "In range"
OUT_OF_RANGE = "Outside range"
CLINIC = "Clinic"
HOME = "Home reading"
CLINIC_COLORS = ["#1565c0", "#7b1fa2"]
HOME_COLORS = ["#64b5f6", "#ce93d8"]
PERIODS = {"all": "All", "year": "Last 12 months", "quarter": "Last 3 months"}
PERIOD_DAYS = {"year": 365, "quarter": 92}
COLUMNS = ["series", "when", "date", "value", "result", "status", "range_status", "dot", "origin"]


def _result_text(point: TrendPoint, unit: str) -> str:
    text = f"{point.value_text} {unit}".strip()
    return f"{text} (lab reported {point.reported})" if point.reported else text


def points_frame(trend: Trend) -> pd.DataFrame:
    """Every drawn point, clinic results and home readings, told apart by ``origin``; a long
    series is thinned (its table keeps every value)."""
    rows = [
        {
            "series": series.name,
            "when": naive_local(point.effective_at),
            "date": format_datetime(point.effective_at),
            "value": point.value,
            "result": _result_text(point, series.unit),
            "status": (point.flag or IN_RANGE) if origin == CLINIC else HOME,
            "range_status": OUT_OF_RANGE if point.abnormal else IN_RANGE,
            "dot": OUT_OF_RANGE if point.abnormal else series.name,
            "origin": origin,
        }
        for origin, group in ((CLINIC, trend.series), (HOME, trend.readings))
        for series in group
        for point in thin_points(series.points)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def _has_range(series: TrendSeries) -> bool:
    return bool(series.points) and (series.ref_low is not None or series.ref_high is not None)


def band_frame(trend: Trend) -> pd.DataFrame:
    """One row per series with a normal range; an open end is None (drawn to the axis edge)."""
    return pd.DataFrame(
        [
            {"series": s.name, "low": s.ref_low, "high": s.ref_high}
            for s in trend.series
            if _has_range(s)
        ],
        columns=["series", "low", "high"],
    )


def value_extent(values: list[float]) -> tuple[float, float]:
    """The y axis: every value and range end, with a margin; never below 0 for values that are
    all 0 or more (a margin must not invent negative results)."""
    low, high = min(values), max(values)
    margin = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    bottom = low - margin
    if low >= 0:
        bottom = max(0.0, bottom)
    return bottom, high + margin


def _finite(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def range_caption(trend: Trend) -> str:
    """The shaded band in words: "Shaded: the normal range, 100 mg/dL or less"."""
    parts = []
    for s in trend.series:
        if not _has_range(s):
            continue
        unit = f" {s.unit}" if s.unit else ""
        if s.ref_low is not None and s.ref_high is not None:
            words = f"{format_number(s.ref_low)}–{format_number(s.ref_high)}{unit}"
        elif s.ref_high is not None:
            words = f"{format_number(s.ref_high)}{unit} or less"
        elif s.ref_low is not None:  # _has_range: one of the two is set
            words = f"{format_number(s.ref_low)}{unit} or more"
        parts.append(f"{s.name} {words}" if len(trend.series) > 1 else words)
    if not parts:
        return ""
    return "Shaded: the normal range, " + "; ".join(parts) + "."


def build_trend_chart(
    trend: Trend, since: datetime | None = None
) -> alt.LayerChart | alt.FacetChart:
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
    bands = band_frame(trend)
    ends = [v for v in (*bands["low"], *bands["high"]) if _finite(v)]
    bottom, top = value_extent([*everything["value"], *ends] or [0.0])
    # An explicit extent: the open end of a one-sided band is drawn to the axis edge.
    y_scale = alt.Scale(domain=[bottom, top], nice=False, zero=False)
    y = alt.Y("value:Q", title=unit, scale=y_scale)
    tooltip = [
        alt.Tooltip("date:N", title="Date"),
        alt.Tooltip("series:N", title="Test"),
        alt.Tooltip("result:N", title="Result"),
        alt.Tooltip("status:N", title="Flag"),
    ]
    base = alt.Chart(points).encode(x=x, y=y)
    home_base = alt.Chart(home).encode(x=x, y=y)
    line = base.mark_line().encode(color=series_color)
    # The shape legend takes its symbols' colour from the dots' colour rule, whose constant is
    # the red of "Outside range": without this, "In range" showed as a red dot.
    in_range_color = colors[0] if len(trend.series) == 1 else NEUTRAL_COLOR
    symbol_color = alt.ExprRef(
        f"datum.value === '{OUT_OF_RANGE}' ? '{ABNORMAL_COLOR}' : '{in_range_color}'"
    )
    # Dots are filled by a field of their own (series name, or "Outside range"), never by a
    # colour rule: Vega-Lite paints a shape legend with such a rule's constant, which made
    # "In range" a red dot.
    dot_fill = alt.Fill(
        "dot:N",
        scale=alt.Scale(domain=[*names, OUT_OF_RANGE], range=[*colors, ABNORMAL_COLOR]),
        legend=None,
    )
    dots = base.mark_point(filled=True, size=80, opacity=1).encode(
        fill=dot_fill,
        shape=alt.Shape(
            "range_status:N",
            title=None,
            scale=alt.Scale(domain=[IN_RANGE, OUT_OF_RANGE], range=["circle", "triangle-up"]),
            legend=alt.Legend(
                orient="bottom", symbolFillColor=symbol_color, symbolStrokeColor=symbol_color
            ),
        ),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = []
    if not bands.empty:
        # Open ends run to the axis edges.
        bands = bands.assign(
            low=[v if _finite(v) else bottom for v in bands["low"]],
            high=[v if _finite(v) else top for v in bands["high"]],
        )
        layers.append(
            alt.Chart(bands)
            .mark_rect(opacity=0.12)
            .encode(
                y=alt.Y("low:Q", title=unit, scale=y_scale),
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
    chart: alt.LayerChart | alt.FacetChart = alt.layer(*layers).resolve_scale(color="shared")
    return chart


def chart_spec(trend: Trend, since: datetime | None = None) -> dict[str, Any]:
    """The Vega-Lite spec of the chart, as plain data (built and validated once by Altair)."""
    spec = build_trend_chart(trend, since).to_dict()
    # Altair's default theme fixes a 300 px size; Streamlit sizes charts itself.
    spec.get("config", {}).pop("view", None)
    if not spec.get("config", True):
        spec.pop("config")
    return spec


def drawn_trend(trend: Trend) -> Trend:
    """What the chart draws: series thinned, no table. Small, so it is also a cheap cache key."""

    def thinned(series: list[TrendSeries]) -> list[TrendSeries]:
        return [replace(s, points=thin_points(s.points)) for s in series]

    return replace(
        trend, series=thinned(trend.series), readings=thinned(trend.readings), history=[]
    )


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_chart_spec(trend: Trend, since: datetime | None) -> dict[str, Any]:
    # Keyed by the data drawn (the trend without its table) and the period: two people looking
    # at the same numbers share one spec; nothing here knows or checks who looks.
    return chart_spec(trend, since)


def _unconverted_warning(trend: Trend) -> str:
    unit = trend.series[0].unit if trend.series else ""
    counts = ", ".join(f"{n} in {u}" for u, n in sorted(trend.unconverted.items()))
    return (
        f"Some results are in a unit that cannot be converted to {unit or 'the chart’s unit'} "
        f"({counts}), so they are not on the chart; they are in the table below."
    )


def render_trend_chart(trend: Trend) -> None:
    if trend.unconverted:
        st.warning(md_literal(_unconverted_warning(trend)))
    if not trend.has_points:
        if not trend.unconverted:
            st.caption("These results are not numbers, so there is no chart; see the table below.")
        return
    since = None
    if any(s.points for s in trend.readings):
        period = st.segmented_control(
            "Period",
            list(PERIODS),
            default="all",
            format_func=PERIODS.__getitem__,
            key=f"trend_period_{trend.code}",
        )
        days = PERIOD_DAYS.get(period or "all")
        # Whole days: a cut that moved every second would never find its cached spec.
        today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        since = today - timedelta(days=days) if days else None
    spec = _cached_chart_spec(drawn_trend(trend), since)
    st.vega_lite_chart(spec, width="stretch")
    if caption := range_caption(trend):
        st.caption(md_literal(caption))
    if any(s.points for s in trend.readings):
        st.caption(
            "Solid lines and filled dots are clinic results; dashed lines and hollow squares, "
            "marked (home), are readings taken at home."
        )
