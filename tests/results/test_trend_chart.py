"""The trend chart as a browser draws it: Vega-Lite compiled and rendered to SVG by vl-convert
(the Vega engine Streamlit's front end runs), so legend colours and bands are checked as drawn."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import vl_convert

from components.trend_chart import (
    ABNORMAL_COLOR,
    CLINIC_COLORS,
    build_trend_chart,
    chart_spec,
    drawn_trend,
    points_frame,
    range_caption,
)
from portal.services.results import Trend, TrendPoint, TrendSeries
from portal.services.results_downsample import MAX_DRAWN_POINTS, thin_points

JAN = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def _trend(values, *, low=None, high=None, unit="mg/dL", name="LDL cholesterol"):
    def flag(v):
        return "High" if high is not None and v > high else "Low" if low and v < low else ""

    points = [
        TrendPoint(JAN + timedelta(days=30 * i), v, f"{v:g}", flag(v)) for i, v in enumerate(values)
    ]
    series = TrendSeries("18262-6", name, unit, low, high, points)
    return Trend(code="18262-6", name=name, series=[series], history=[])


def _svg(trend: Trend) -> str:
    return vl_convert.vegalite_to_svg(build_trend_chart(trend).to_dict())


def _legend(svg: str) -> dict[str, str]:
    """Legend label -> fill colour of its symbol."""
    pattern = re.compile(
        r'role-legend-symbol"[^>]*><path[^>]*?fill="(#[0-9a-f]{6})".*?'
        r'role-legend-label"[^>]*><text[^>]*>([^<]+)</text>',
        re.S,
    )
    return {label: colour for colour, label in pattern.findall(svg)}


def _band(svg: str) -> tuple[float, float]:
    """Top and height of the shaded band, in pixels."""
    match = re.search(r'aria-roledescription="rect mark" d="M0,([\d.]+)h[\d.]+v([\d.]+)h', svg)
    assert match, "no band drawn"
    return float(match.group(1)), float(match.group(2))


def _plot_height(svg: str) -> float:
    """The plot area's height (its frame is the first background drawn)."""
    return float(
        re.search(r'class="background"[^>]*d="M[\d.]+,[\d.]+h[\d.]+v([\d.]+)h', svg).group(1)
    )


def test_legend_colours_mean_what_they_say():
    legend = _legend(_svg(_trend([90, 130, 95], high=100)))
    assert legend["In range"] == CLINIC_COLORS[0]
    assert legend["Outside range"] == ABNORMAL_COLOR


def test_an_upper_limit_only_is_shaded_from_the_bottom_of_the_axis():
    svg = _svg(_trend([90, 130, 95], high=100))
    top, height = _band(svg)
    assert top > 0  # the band ends at 100, below the highest value
    assert top + height == pytest.approx(_plot_height(svg), abs=0.5)


def test_a_lower_limit_only_is_shaded_to_the_top_of_the_axis():
    svg = _svg(_trend([55, 72, 80], low=60, unit="mL/min/1.73m2", name="eGFR"))
    top, height = _band(svg)
    assert top == pytest.approx(0, abs=0.5)
    assert height < _plot_height(svg)  # it stops at 60, above the lowest value


def test_the_range_is_said_in_words():
    assert range_caption(_trend([90], high=100)) == "Shaded: the normal range, 100 mg/dL or less."
    assert range_caption(_trend([70], low=60, unit="")) == "Shaded: the normal range, 60 or more."
    assert range_caption(_trend([5], low=4, high=5.6, unit="%")) == (
        "Shaded: the normal range, 4–5.6 %."
    )
    assert range_caption(_trend([5])) == ""


def test_the_spec_is_plain_data_without_altairs_fixed_size():
    spec = chart_spec(_trend([90, 95], high=100))
    assert "view" not in spec.get("config", {})
    assert spec["layer"]


def test_long_series_are_thinned_for_drawing_but_keep_every_abnormal_bump():
    values = [100 + (i % 7) for i in range(5000)]
    values[2345] = 400  # one abnormal spike
    trend = _trend(values, high=300)
    frame = points_frame(trend)
    assert len(frame) <= MAX_DRAWN_POINTS
    assert 400 in set(frame["value"])
    assert frame["when"].is_monotonic_increasing
    assert len(trend.series[0].points) == 5000  # the data itself is untouched
    # The cache key is the thinned trend, so hashing it stays cheap for long series too.
    drawn = drawn_trend(trend)
    assert len(drawn.series[0].points) <= MAX_DRAWN_POINTS and drawn.history == []


def test_thin_points_keeps_short_series_and_both_ends():
    points = _trend(list(range(1000))).series[0].points
    assert thin_points(points[:10]) == points[:10]
    thinned = thin_points(points, limit=50)
    assert len(thinned) <= 50
    assert thinned[0] == points[0] and thinned[-1] == points[-1]
