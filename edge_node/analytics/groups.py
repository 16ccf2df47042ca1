"""Groups: people who move together, so a family or a couple counts once as a shopping unit.

Two people are together at a moment when their feet are closer than `max_distance` body heights
and they move alike: both standing, or walking with headings within `max_heading_deg` and speeds
within a factor of `max_speed_ratio` (the proximity + velocity cues of Ge, Collins & Ruback,
"Vision-based analysis of small groups in pedestrian crowds", TPAMI 2012). A pair is a group
once they were together for at least `min_together_s` and for at least `min_fraction` of the
time both were in view. Groups are the connected parts of the pairs, so three friends are one
group of three even if two of them never walked side by side.

Only the pairs' running totals are kept, in memory, until every member of the group has left;
nothing links a visit to another after that.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..config import GroupConfig
from ..types import Track
from .behaviour import Motion


@dataclass(slots=True)
class _Pair:
    shared_s: float = 0.0
    together_s: float = 0.0


@dataclass(frozen=True, slots=True)
class GroupResult:
    size: int  # people in the group, this person included (1: alone)
    new_unit: bool  # first member of the group to leave (or alone): a new shopping unit
    members: tuple[int, ...] = ()  # track ids of the group (offline evaluation only)


class GroupFinder:
    """Keeps pairwise together-time of the people in view and answers group questions."""

    def __init__(self, rules: GroupConfig | None = None, standing_speed: float = 0.2) -> None:
        self.rules = rules or GroupConfig()
        self.standing_speed = standing_speed  # body heights per second
        self._pairs: dict[tuple[int, int], _Pair] = {}
        self._last: float | None = None
        self._left: dict[int, bool] = {}  # members who left while their group stayed: counted
        self.aspect = 4 / 3  # frame width / height; the pipeline sets the camera's own

    def update(
        self, tracks: Iterable[Track], motion: Callable[[int], Motion | None], timestamp: float
    ) -> None:
        tracks = sorted(tracks, key=lambda t: t.track_id)
        dt = 0.0 if self._last is None else max(0.0, timestamp - self._last)
        self._last = timestamp
        for i, a in enumerate(tracks):
            for b in tracks[i + 1 :]:
                pair = self._pairs.setdefault((a.track_id, b.track_id), _Pair())
                moving = (motion(a.track_id), motion(b.track_id))
                if moving[0] is None or moving[1] is None:
                    continue  # too new to judge: neither together nor apart yet
                pair.shared_s += dt
                if self._together(a, b, moving[0], moving[1]):
                    pair.together_s += dt

    def _together(self, a: Track, b: Track, ma: Motion, mb: Motion) -> bool:
        rules = self.rules
        height = (ma.height + mb.height) / 2
        (ax, ay), (bx, by) = a.anchor, b.anchor
        # Anchors are fractions of the frame's width and height; compare in frame heights.
        if math.hypot((ax - bx) * self.aspect, ay - by) > rules.max_distance * height:
            return False
        slow_a, slow_b = ma.speed < self.standing_speed, mb.speed < self.standing_speed
        if slow_a or slow_b:
            return slow_a and slow_b  # standing together, or one walking away
        if max(ma.speed, mb.speed) > rules.max_speed_ratio * min(ma.speed, mb.speed):
            return False
        angle = math.degrees(abs(math.atan2(ma.vy, ma.vx) - math.atan2(mb.vy, mb.vx)))
        return min(angle, 360 - angle) <= rules.max_heading_deg

    def is_pair(self, a: int, b: int) -> bool:
        pair = self._pairs.get((min(a, b), max(a, b)))
        if pair is None or pair.together_s < self.rules.min_together_s:
            return False
        return pair.together_s >= self.rules.min_fraction * pair.shared_s

    def members(self, track_id: int) -> set[int]:
        """Everyone in the person's group, the person included."""
        group, todo = {track_id}, [track_id]
        while todo:
            current = todo.pop()
            for a, b in self._pairs:
                other = b if a == current else a if b == current else None
                if other is not None and other not in group and self.is_pair(current, other):
                    group.add(other)
                    todo.append(other)
        return group

    def leave(self, track_id: int) -> GroupResult:
        """The person's visit ended: their group's size, and whether the unit is new."""
        group = self.members(track_id)
        new_unit = not any(self._left.get(member, False) for member in group - {track_id})
        self._left[track_id] = True
        if all(member in self._left for member in group):
            self._drop(group)  # the whole group has gone: forget it
        return GroupResult(len(group), new_unit, tuple(sorted(group)))

    def _drop(self, group: set[int]) -> None:
        for member in group:
            self._left.pop(member, None)
        self._pairs = {k: v for k, v in self._pairs.items() if not set(k) & group}
