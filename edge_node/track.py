"""Tracking: follow each person from frame to frame with a ByteTrack-style tracker.

Written here rather than taken from a package: the maintained trackers either pin numpy < 2
(norfair) or pull in the GUI build of OpenCV, which clashes with opencv-python-headless, plus
matplotlib and PyAV (trackers, supervision) — too much for a Raspberry Pi node.

How it works: every track carries a constant-velocity Kalman filter on its box. Confident
detections are matched to all tracks first (by box overlap with the prediction, optimally via the
Hungarian method); weak detections may then continue tracks that are still unmatched — that is
ByteTrack's idea, and it keeps people through partial occlusion. Weak detections alone may keep
a track going for at most `max_weak_s` seconds since its last confident one: a person walking
past a bollard or a tripod that the detector weakly takes for a person would otherwise leave a
track standing on it for good. A new track needs `min_hits` matches in a row before it counts as
a person, so a one-frame false positive never does. A person not seen for `max_lost_s` seconds
ends. Time, not frame counts, drives everything, so the tracker behaves the same at any
detection rate.

Two people walking side by side are often found as one box. With `split_aspect` set (it is off
unless configured), a confident box wider than that (width over height, in pixels) — wider than
one person walking ever is — is taken as two people side by side and split down the middle,
unless it touches the top or bottom of the frame (a person cut off there looks wider than they
are). Weak boxes are left whole: wide ones are mostly clutter (a bollard, a rock) that only
ever continues a track. Only for cameras that see everyone whole and from afar: from close by,
one person's head and shoulders are as wide as two people far off.

Occlusion: someone who walks behind a post or another person often comes back as a new track,
because the prediction has drifted off them by then. When a new track is confirmed, it is
stitched onto a lost track if the lost one vanished before the new one appeared, at most
`stitch_gap_s` earlier, close to where the lost one was heading (within `stitch_distance` of its
height), about as tall, and not moving the other way. The new track then carries the old id, so
a line crossed while hidden is counted once, on the person's one track.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from .profiles import ModelProfile
from .types import Box, Detection, Track

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    high_threshold: float = 0.4  # detections this confident may start tracks
    low_threshold: float = 0.15  # weaker ones may only continue existing tracks
    match_iou: float = 0.2  # least overlap with the prediction to match (first round)
    low_match_iou: float = 0.4  # stricter for weak detections (second round)
    min_hits: int = 3  # matches in a row before a track is a confirmed person
    max_lost_s: float = 3.0  # how long a confirmed person may go unseen before the track ends
    # How long an unseen person still counts as in view. Shorter than max_lost_s: a track kept
    # alive for re-matching after an occlusion must not be counted twice when the detector has
    # meanwhile started a new track on the same person.
    report_lost_s: float = 0.6
    stitch_gap_s: float = 1.5  # longest hidden gap a stitch bridges (0: never stitch)
    stitch_distance: float = 1.0  # how far from the lost track's heading, in its heights
    stitch_min_cos: float = 0.5  # directions of both must agree this much when both move
    stitch_min_speed: float = 0.3  # heights per second below which a person counts as standing
    stitch_min_height_ratio: float = 0.6  # heights of both within this ratio (same distance)
    max_weak_s: float = 0.0  # longest weak detections alone keep a track going (0: no limit)
    split_aspect: float = 0.0  # a box wider than this (w/h in pixels) is two people (0: never)

    @classmethod
    def from_profile(cls, profile: ModelProfile) -> TrackerConfig:
        """The tracker settings of a model profile (with the YAML's overrides applied)."""
        return cls(
            high_threshold=profile.score_threshold,
            low_threshold=profile.low_score_threshold,
            match_iou=profile.match_iou,
            min_hits=profile.min_hits,
            max_lost_s=profile.max_lost_s,
            report_lost_s=min(profile.report_lost_s, profile.max_lost_s),
            stitch_gap_s=min(profile.stitch_gap_s, profile.max_lost_s),
            stitch_distance=profile.stitch_distance,
            max_weak_s=profile.max_weak_s,
            split_aspect=profile.split_aspect,
        )


@dataclass(frozen=True, slots=True)
class TrackerOutput:
    tracks: list[Track]  # confirmed people in view (unseen for at most report_lost_s)
    ended: list[int]  # confirmed tracks that ended at this update


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pairwise intersection over union of boxes (x1, y1, x2, y2)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


# A box whose top or bottom lies this close to the frame's edge is cut off there.
_EDGE = 0.005


def split_wide(
    detections: Sequence[Detection], max_aspect: float, frame_aspect: float, min_score: float = 0.0
) -> list[Detection]:
    """Each box scoring at least `min_score` and wider than `max_aspect` (width over height in
    pixels; `frame_aspect` is the frame's width over height) split into two side by side, with
    the same score."""
    if max_aspect <= 0:
        return list(detections)
    out: list[Detection] = []
    for detection in detections:
        x1, y1, x2, y2 = detection.box
        height = y2 - y1
        cut_off = y1 <= _EDGE or y2 >= 1 - _EDGE
        narrow = height <= 0 or (x2 - x1) * frame_aspect / height <= max_aspect
        if cut_off or narrow or detection.score < min_score:
            out.append(detection)
            continue
        middle = (x1 + x2) / 2
        out.append(Detection(box=(x1, y1, middle, y2), score=detection.score))
        out.append(Detection(box=(middle, y1, x2, y2), score=detection.score))
    return out


def match(tracks: FloatArray, detections: FloatArray, min_iou: float) -> list[tuple[int, int]]:
    """Optimal one-to-one pairs (track index, detection index) with IoU >= min_iou."""
    overlap = iou_matrix(tracks, detections)
    if overlap.size == 0:
        return []
    rows, cols = linear_sum_assignment(-overlap)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if overlap[r, c] >= min_iou]


_H = np.hstack([np.eye(4), np.zeros((4, 4))])  # we observe the box, not its velocity
_EYE8 = np.eye(8)


class _Kalman:
    """Constant-velocity filter on (cx, cy, w, h); noise scales with the person's size."""

    def __init__(self, box: Box) -> None:
        x1, y1, x2, y2 = box
        w, h = x2 - x1, y2 - y1
        self.x: FloatArray = np.array([x1 + w / 2, y1 + h / 2, w, h, 0, 0, 0, 0], dtype=float)
        scale = np.array([h / 10, h / 10, w / 10, h / 10, h / 5, h / 5, w / 5, h / 5])
        self.p: FloatArray = np.diag(scale**2)

    def predict(self, dt: float) -> None:
        f = _EYE8.copy()
        f[:4, 4:] = _EYE8[:4, :4] * dt
        h = max(self.x[3], 1e-3)
        q_pos, q_vel = (h / 20) ** 2 * max(dt, 1e-3), (h / 8) ** 2 * max(dt, 1e-3)
        self.x = f @ self.x
        self.p = f @ self.p @ f.T
        self.p[np.diag_indices(8)] += (q_pos,) * 4 + (q_vel,) * 4

    def update(self, box: Box) -> None:
        x1, y1, x2, y2 = box
        z = np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
        # With H = [I 0], H P H^T is P's top-left block and P H^T its left columns.
        s = self.p[:4, :4].copy()
        s[np.diag_indices(4)] += ((z[3] / 20) ** 2,) * 2 + ((z[3] / 10) ** 2,) * 2
        gain = np.linalg.solve(s, self.p[:4, :]).T
        self.x = self.x + gain @ (z - self.x[:4])
        self.p = self.p - gain @ self.p[:4, :]

    def box(self) -> Box:
        cx, cy, w, h = self.x[:4]
        w, h = max(w, 1e-4), max(h, 1e-4)
        return (float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2))


@dataclass(slots=True)
class _Tracklet:
    track_id: int
    kalman: _Kalman
    box: Box  # last observed box
    score: float
    last_seen: float
    last_time: float
    first_seen: float
    first_box: Box
    last_strong: float  # when a confident detection last matched it
    hits: int = 1
    confirmed: bool = False
    matched_now: bool = field(default=True)
    confirmed_now: bool = False

    def to_track(self) -> Track:
        return Track(track_id=self.track_id, box=self.box, score=self.score)

    def velocity(self) -> tuple[float, float]:
        """Centre velocity per second: the filter's for a confirmed track, else the average
        since the track began (a new track's filter has not settled yet)."""
        if self.confirmed and self.hits > 3:
            return (float(self.kalman.x[4]), float(self.kalman.x[5]))
        dt = self.last_seen - self.first_seen
        if dt <= 0:
            return (0.0, 0.0)
        (x0, y0), (x1, y1) = _centre(self.first_box), _centre(self.box)
        return ((x1 - x0) / dt, (y1 - y0) / dt)


def _centre(box: Box) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def _height(box: Box) -> float:
    return max(box[3] - box[1], 1e-4)


class Tracker:
    """Turns each update's detections into tracks with stable anonymous ids."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracklets: list[_Tracklet] = []
        self._ids = itertools.count(1)

    def update(
        self, detections: Sequence[Detection], timestamp: float, frame_aspect: float = 4 / 3
    ) -> TrackerOutput:
        """`frame_aspect`: the frame's width over its height (boxes are normalized)."""
        cfg = self.config
        detections = split_wide(detections, cfg.split_aspect, frame_aspect, cfg.high_threshold)
        for tracklet in self._tracklets:
            tracklet.kalman.predict(timestamp - tracklet.last_time)
            tracklet.last_time = timestamp
            tracklet.matched_now = False
        high = [d for d in detections if d.score >= cfg.high_threshold]
        low = [d for d in detections if cfg.low_threshold <= d.score < cfg.high_threshold]

        unmatched_high = self._associate(self._tracklets, high, cfg.match_iou, timestamp)
        # Second round: weak detections may continue confirmed tracks only, and only for
        # max_weak_s after the track's last confident detection.
        waiting = [
            t
            for t in self._tracklets
            if not t.matched_now
            and t.confirmed
            and (not cfg.max_weak_s or timestamp - t.last_strong <= cfg.max_weak_s)
        ]
        self._associate(waiting, low, cfg.low_match_iou, timestamp)
        self._stitch_new_tracks()

        ended: list[int] = []
        kept: list[_Tracklet] = []
        for tracklet in self._tracklets:
            if tracklet.matched_now:
                kept.append(tracklet)
            elif tracklet.confirmed and timestamp - tracklet.last_seen <= cfg.max_lost_s:
                kept.append(tracklet)  # coasting through a brief miss
            elif tracklet.confirmed:
                ended.append(tracklet.track_id)
            # an unconfirmed track that misses once was noise: dropped silently
        for detection in unmatched_high:
            kept.append(self._new(detection, timestamp))
        self._tracklets = kept
        tracks = [
            t.to_track()
            for t in kept
            if t.confirmed and timestamp - t.last_seen <= cfg.report_lost_s
        ]
        return TrackerOutput(tracks=tracks, ended=ended)

    def _associate(
        self,
        tracklets: list[_Tracklet],
        detections: list[Detection],
        min_iou: float,
        timestamp: float,
    ) -> list[Detection]:
        """Match and update; return the detections left unmatched."""
        if not tracklets or not detections:
            return list(detections)
        predicted = np.array([t.kalman.box() for t in tracklets])
        boxes = np.array([d.box for d in detections])
        pairs = match(predicted, boxes, min_iou)
        used = set()
        for ti, di in pairs:
            tracklet, detection = tracklets[ti], detections[di]
            tracklet.kalman.update(detection.box)
            tracklet.box = detection.box
            tracklet.score = detection.score
            tracklet.last_seen = timestamp
            if detection.score >= self.config.high_threshold:
                tracklet.last_strong = timestamp
            tracklet.hits += 1
            tracklet.matched_now = True
            if not tracklet.confirmed and tracklet.hits >= self.config.min_hits:
                tracklet.confirmed = tracklet.confirmed_now = True
            used.add(di)
        return [d for i, d in enumerate(detections) if i not in used]

    def _new(self, detection: Detection, timestamp: float) -> _Tracklet:
        tracklet = _Tracklet(
            track_id=next(self._ids),
            kalman=_Kalman(detection.box),
            box=detection.box,
            score=detection.score,
            last_seen=timestamp,
            last_time=timestamp,
            first_seen=timestamp,
            first_box=detection.box,
            last_strong=timestamp,
        )
        tracklet.confirmed = self.config.min_hits <= 1
        return tracklet

    def _stitch_new_tracks(self) -> None:
        """Give each track confirmed at this update the id of the lost track it continues."""
        stitched: set[int] = set()
        for tracklet in self._tracklets:
            if not tracklet.confirmed_now:
                continue
            tracklet.confirmed_now = False
            lost = self._stitch_candidate(tracklet, stitched)
            if lost is not None:
                stitched.add(id(lost))
                tracklet.track_id = lost.track_id
        if stitched:
            self._tracklets = [t for t in self._tracklets if id(t) not in stitched]

    def _stitch_candidate(self, new: _Tracklet, taken: set[int]) -> _Tracklet | None:
        """The lost track `new` most plausibly continues, or None (see the module docstring)."""
        cfg = self.config
        best, best_distance = None, cfg.stitch_distance
        for old in self._tracklets:
            gap = new.first_seen - old.last_seen
            if old is new or id(old) in taken or not old.confirmed or old.matched_now:
                continue
            if not 0 < gap <= cfg.stitch_gap_s:
                continue  # seen together with the new track (two people), or gone too long
            height = _height(old.box)
            ratio = _height(new.first_box) / height
            if not cfg.stitch_min_height_ratio <= ratio <= 1 / cfg.stitch_min_height_ratio:
                continue
            if not self._same_way(old, new, height):
                continue
            vx, vy = old.velocity()
            cx, cy = _centre(old.box)
            nx, ny = _centre(new.first_box)
            distance = float(np.hypot(nx - (cx + vx * gap), ny - (cy + vy * gap))) / height
            if distance <= best_distance:
                best, best_distance = old, distance
        return best

    def _same_way(self, old: _Tracklet, new: _Tracklet, height: float) -> bool:
        """Not moving in clearly different directions (either standing still passes)."""
        a, b = np.array(old.velocity()), np.array(new.velocity())
        speed_a, speed_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        minimum = self.config.stitch_min_speed * height
        if speed_a < minimum or speed_b < minimum:
            return True
        return float(a @ b) / (speed_a * speed_b) >= self.config.stitch_min_cos

    def flush(self) -> list[int]:
        """End every track (end of the video); returns the confirmed ids that ended."""
        ended = [t.track_id for t in self._tracklets if t.confirmed]
        self._tracklets = []
        return ended
