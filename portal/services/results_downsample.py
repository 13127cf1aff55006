"""Fewer points to draw for a long series, keeping its shape and every bump that matters.

A chart of thousands of points is slow to build, send and draw, and no screen shows them apart.
The series is cut into equal runs of points; each run keeps its lowest and highest value and its
first abnormal result, and the first and last points always stay. The table keeps every value.
"""

from collections.abc import Sequence
from typing import TypeVar

from portal.services.results import TrendPoint

P = TypeVar("P", bound=TrendPoint)

# Past this many points a series is thinned for drawing.
MAX_DRAWN_POINTS = 400


def thin_points(points: Sequence[P], limit: int = MAX_DRAWN_POINTS) -> list[P]:
    """At most ``limit`` points (oldest first, as given), or all of them when there are fewer."""
    if len(points) <= limit:
        return list(points)
    runs = max(1, (limit - 2) // 3)
    size = (len(points) - 2) / runs
    kept = {0, len(points) - 1}
    for run in range(runs):
        start, end = 1 + int(run * size), 1 + int((run + 1) * size)
        indexes = range(start, min(end, len(points) - 1))
        if not indexes:
            continue
        kept.add(min(indexes, key=lambda i: points[i].value))
        kept.add(max(indexes, key=lambda i: points[i].value))
        abnormal = next((i for i in indexes if points[i].abnormal), None)
        if abnormal is not None:
            kept.add(abnormal)
    return [points[i] for i in sorted(kept)]
