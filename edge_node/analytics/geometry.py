"""Plane geometry in normalized frame coordinates (x right, y down)."""

from __future__ import annotations

from collections.abc import Sequence

from ..types import Point


def inside(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd rule; a point exactly on an edge may fall either way (zones have inertia)."""
    x, y = point
    result = False
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        if (y1 > y) != (y2 > y):
            cross_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < cross_x:
                result = not result
    return result


def side_value(point: Point, start: Point, end: Point) -> float:
    """s = (x2-x1)*(y-y1) - (y2-y1)*(x-x1), divided by the line's length: a signed distance."""
    (x1, y1), (x2, y2), (x, y) = start, end, point
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    return float(((x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)) / length)


def segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether segment p1-p2 meets segment q1-q2 (touching counts)."""

    def orient(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return (d1 * d2 <= 0) and (d3 * d4 <= 0)
