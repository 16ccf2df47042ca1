"""Behaviour of one person during one visit: where they went, how they moved, where they stopped.

Positions are the feet (bottom centre of the box). Distances are measured in **body heights**
(the person's box height at that moment), so the same thresholds hold whether a camera sees
people large at a door or small across a shop. x is scaled by the frame's aspect ratio first so
a step sideways and a step towards the camera measure alike.

Speeds are taken over a window of about a second: box jitter from one frame to the next would
otherwise make a person standing still look as if they were always moving a little.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..types import Point, Track
from .geometry import inside

SPEED_WINDOW_S = 1.0  # speed is the displacement over this window
PATH_STEP_S = 0.5  # path length is summed over samples this far apart (jitter-free)


@dataclass(frozen=True, slots=True)
class Motion:
    """How a person moves right now: velocity in body heights per second."""

    vx: float
    vy: float
    height: float  # box height, in frame heights

    @property
    def speed(self) -> float:
        return math.hypot(self.vx, self.vy)


@dataclass(frozen=True, slots=True)
class VisitFeatures:
    """What a visit's persona is decided from. Nothing here can identify a person."""

    duration_s: float
    zones: dict[str, float]  # dwell seconds per zone
    path: tuple[str, ...]  # zones in the order entered
    stops: int  # times the person stood still for at least the stop time
    stop_s: float  # seconds spent in those stops
    straightness: float  # displacement / path length, 0..1 (0: went nowhere)
    speed: float  # mean walking speed, body heights per second
    display_s: float  # seconds with the feet in a display zone
    entered: bool  # crossed an entrance line inwards
    interactions: int | None = None  # shelf interactions; None while no shelf stage reports them
    group_size: int = 1


@dataclass(slots=True)
class _Sample:
    t: float
    x: float  # feet x, in frame heights (x scaled by the aspect ratio)
    y: float
    h: float  # box height, in frame heights


@dataclass(slots=True)
class _Path:
    first: _Sample
    last: _Sample
    recent: deque[_Sample] = field(default_factory=deque)  # the last SPEED_WINDOW_S
    length: float = 0.0  # in body heights
    step_from: _Sample | None = None
    heights: float = 0.0
    samples: int = 0
    still_since: float | None = None  # standing still since
    stops: int = 0
    stop_s: float = 0.0
    display_s: float = 0.0


class BehaviourRecorder:
    """Follows every person in view and summarises their movement when their visit ends."""

    def __init__(
        self,
        displays: Iterable[Sequence[Point]] = (),
        stop_speed: float = 0.2,
        stop_min_s: float = 2.0,
    ) -> None:
        self.displays = [tuple(polygon) for polygon in displays]
        self.stop_speed = stop_speed
        self.stop_min_s = stop_min_s
        self.aspect = 4 / 3  # frame width / height; the pipeline sets the camera's own
        self._paths: dict[int, _Path] = {}

    def update(self, tracks: Iterable[Track], timestamp: float) -> None:
        for track in tracks:
            _, top, _, bottom = track.box
            fx, fy = track.anchor
            sample = _Sample(timestamp, fx * self.aspect, fy, max(bottom - top, 1e-3))
            path = self._paths.get(track.track_id)
            if path is None:
                path = _Path(sample, sample, step_from=sample)
                self._paths[track.track_id] = path
            self._add(path, sample, track.anchor)

    def _add(self, path: _Path, sample: _Sample, feet: Point) -> None:
        dt = max(0.0, sample.t - path.last.t)
        if any(inside(feet, polygon) for polygon in self.displays):
            path.display_s += dt
        path.last = sample
        path.heights += sample.h
        path.samples += 1
        path.recent.append(sample)
        while path.recent and sample.t - path.recent[0].t > SPEED_WINDOW_S:
            path.recent.popleft()
        step_from = path.step_from or sample
        if sample.t - step_from.t >= PATH_STEP_S:
            path.length += _distance(step_from, sample) / ((step_from.h + sample.h) / 2)
            path.step_from = sample
        self._stop_step(path, sample.t)

    def _stop_step(self, path: _Path, now: float) -> None:
        motion = _motion(path)
        # Only a full window tells standing from walking; until then nothing is decided.
        still = motion is not None and motion.speed < self.stop_speed
        if still and path.still_since is None:
            path.still_since = path.recent[0].t
        elif not still and path.still_since is not None:
            self._close_stop(path, now)

    def _close_stop(self, path: _Path, now: float) -> None:
        assert path.still_since is not None
        if now - path.still_since >= self.stop_min_s:
            path.stops += 1
            path.stop_s += now - path.still_since
        path.still_since = None

    def motion(self, track_id: int) -> Motion | None:
        """Velocity now, or None before a window's worth of samples."""
        path = self._paths.get(track_id)
        return None if path is None else _motion(path)

    def features(
        self,
        track_id: int,
        zones: dict[str, float],
        order: Sequence[str],
        entered: bool,
        *,
        interactions: int | None = None,
        group_size: int = 1,
    ) -> VisitFeatures:
        """The visit's behaviour so far (the visit may still be going on)."""
        path = self._paths.get(track_id)
        if path is None:
            return VisitFeatures(0.0, dict(zones), tuple(order), 0, 0.0, 0.0, 0.0, 0.0, entered)
        stops, stop_s = path.stops, path.stop_s
        if path.still_since is not None and path.last.t - path.still_since >= self.stop_min_s:
            stops, stop_s = stops + 1, stop_s + path.last.t - path.still_since
        duration = path.last.t - path.first.t
        height = path.heights / max(path.samples, 1)
        length = path.length
        if path.step_from is not None and path.step_from is not path.last:
            length += _distance(path.step_from, path.last) / height
        displacement = _distance(path.first, path.last) / height
        # Someone who moved less than a body height in all went nowhere: straightness 0.
        straightness = min(1.0, displacement / length) if length >= 1.0 else 0.0
        return VisitFeatures(
            duration_s=duration,
            zones=dict(zones),
            path=tuple(order),
            stops=stops,
            stop_s=stop_s,
            straightness=straightness,
            speed=length / duration if duration > 0 else 0.0,
            display_s=path.display_s,
            entered=entered,
            interactions=interactions,
            group_size=group_size,
        )

    def forget(self, track_id: int) -> None:
        """The visit is over: nothing about the person is kept."""
        self._paths.pop(track_id, None)


def _distance(a: _Sample, b: _Sample) -> float:
    return math.hypot(b.x - a.x, b.y - a.y)


def _motion(path: _Path) -> Motion | None:
    recent = path.recent
    if len(recent) < 2 or recent[-1].t - recent[0].t < SPEED_WINDOW_S * 0.8:
        return None
    first, last = recent[0], recent[-1]
    dt = last.t - first.t
    height = (first.h + last.h) / 2
    return Motion((last.x - first.x) / dt / height, (last.y - first.y) / dt / height, height)
