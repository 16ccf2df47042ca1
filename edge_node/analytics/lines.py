"""Counting lines: in/out crossings of a segment, with a dead band against jitter.

Direction follows the contract: with s = (x2-x1)*(y-y1) - (y2-y1)*(x-x1) at a person's feet,
"in" is s going from negative to positive. A side only counts as established once the feet are
more than `margin` away from the line; a crossing is a change of established side whose path
passes through the segment itself. Someone swaying on the line, or stepping over it and back
within the band (a U-turn), never establishes the other side and is not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..types import Point, Track
from .geometry import segments_cross, side_value

Direction = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class CountingLine:
    id: str
    name: str
    start: Point
    end: Point
    invert: bool = False


@dataclass(frozen=True, slots=True)
class Crossing:
    line_id: str
    track_id: int
    direction: Direction
    timestamp: float
    frame_index: int


@dataclass(slots=True)
class _Side:
    side: int  # +1 or -1: the established side
    where: Point  # the last anchor seen on that side
    provisional: bool = False  # first seen inside the band: the side is only the raw sign


class LineCounter:
    def __init__(self, lines: Iterable[CountingLine], margin: float = 0.02) -> None:
        self.lines = list(lines)
        self.margin = margin
        self._sides: dict[tuple[str, int], _Side] = {}

    def update(
        self, tracks: Iterable[Track], ended: Iterable[int], timestamp: float, frame_index: int
    ) -> list[Crossing]:
        crossings: list[Crossing] = []
        for track in tracks:
            for line in self.lines:
                crossing = self._step(line, track, timestamp, frame_index)
                if crossing is not None:
                    crossings.append(crossing)
        for track_id in ended:
            for line in self.lines:
                self._sides.pop((line.id, track_id), None)
        return crossings

    def _step(
        self, line: CountingLine, track: Track, timestamp: float, frame_index: int
    ) -> Crossing | None:
        anchor = track.anchor
        distance = side_value(anchor, line.start, line.end)
        side = 1 if distance > 0 else -1
        key = (line.id, track.track_id)
        known = self._sides.get(key)
        if abs(distance) <= self.margin:
            # Inside the dead band nothing is decided, except for someone first seen here (say,
            # standing at a door): the raw sign is remembered so their later crossing counts.
            if known is None and distance != 0:
                self._sides[key] = _Side(side, anchor, provisional=True)
            return None
        self._sides[key] = _Side(side, anchor)
        if known is None or known.side == side:
            return None
        if not segments_cross(known.where, anchor, line.start, line.end):
            return None  # went round the end of the segment
        direction: Direction = "in" if side > 0 else "out"
        if line.invert:
            direction = "out" if direction == "in" else "in"
        return Crossing(line.id, track.track_id, direction, timestamp, frame_index)
