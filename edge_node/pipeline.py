"""The node's pipeline: motion gate → detect → track → shelves → analytics → display audience.

Stages talk through the small values in `types.py`; this module only wires them together and
times them. Capture stays outside: the caller decides where frames come from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .analytics import Analytics, AnalyticsUpdate
from .audience import AudienceUpdate, build_audience
from .config import NodeConfig
from .detect import Detector
from .motion import MotionGate, MotionResult
from .shelves import Shelves, ShelvesUpdate
from .track import Tracker, TrackerConfig
from .types import Detection, Frame, Track


@dataclass(slots=True)
class StageTimes:
    """Seconds spent in each stage for one frame (decode is filled in by the caller)."""

    decode: float = 0.0
    motion: float = 0.0
    detect: float = 0.0
    track: float = 0.0
    shelves: float = 0.0
    analytics: float = 0.0
    audience: float = 0.0  # display zones, and the face reader when attention is on


@dataclass(frozen=True, slots=True)
class FrameResult:
    frame_index: int
    timestamp: float
    detected: bool  # the detector ran on this frame (False: the motion gate skipped it)
    people: int  # people the node reports in view for this frame
    tracks: tuple[Track, ...]
    analytics: AnalyticsUpdate
    audience: AudienceUpdate
    motion: MotionResult
    invoke_s: float  # time inside the model's invoke (0 when skipped)
    times: StageTimes = field(default_factory=StageTimes)
    shelves: ShelvesUpdate = field(default_factory=lambda: ShelvesUpdate([], []))


def build_tracker(config: NodeConfig) -> Tracker:
    return Tracker(TrackerConfig.from_profile(config.tuning()))


def build_analytics(config: NodeConfig) -> Analytics:
    return Analytics.from_config(config)


class Pipeline:
    """Turns frames into tracks and analytics updates."""

    def __init__(self, config: NodeConfig, detector: Detector | None = None) -> None:
        self.config = config
        self.detector = detector or Detector(
            config.detection.model,
            labels=config.detection.labels,
            person_label=config.detection.person_label,
            threads=config.detection.threads,
            min_score=config.tuning().low_score_threshold,
        )
        self.gate = MotionGate(
            enabled=config.motion.enabled,
            min_area=config.motion.min_area,
            keepalive_s=config.motion.keepalive_s,
        )
        self.tracker = build_tracker(config)
        self.analytics = build_analytics(config)
        self.audience = build_audience(config)
        self.shelves = Shelves(config.shelves)
        rate = config.detection_rate()
        self._min_interval = 1.0 / rate if rate else 0.0
        self._next_detect: float | None = None
        self._tracks: tuple[Track, ...] = ()

    @property
    def tracks(self) -> tuple[Track, ...]:
        """People tracked right now."""
        return self._tracks

    def reconfigure(self, config: NodeConfig) -> None:
        """New zones, lines, shelves or settings; tracks carry on, zone state starts afresh."""
        if config.shelves != self.config.shelves:
            self.shelves = Shelves(config.shelves)  # unchanged shelves keep their references
        self.config = config
        self.analytics = build_analytics(config)
        showing = self.audience.showing
        self.audience = build_audience(config)
        for display_id in self.audience.showing:
            self.audience.showing[display_id] = showing.get(display_id)

    def _rate_allows(self, timestamp: float) -> bool:
        if not self._min_interval or self._next_detect is None:
            return True
        return timestamp >= self._next_detect - 1e-9

    def _schedule_next(self, timestamp: float) -> None:
        """The detector's next look is due one interval after this one was due, so that the
        rate holds on average when it does not divide the camera's frame rate (7 Hz on a 10 fps
        camera looks at 7 frames in 10, not every second frame); after a pause (the motion gate,
        a slow frame) the schedule starts again from now."""
        due = (timestamp if self._next_detect is None else self._next_detect) + self._min_interval
        self._next_detect = due if due > timestamp else timestamp + self._min_interval

    def process(self, frame: Frame) -> FrameResult:
        times = StageTimes()
        start = time.perf_counter()
        motion = self.gate.check(frame.image, frame.timestamp)
        times.motion = time.perf_counter() - start

        run = motion.run_detector and self._rate_allows(frame.timestamp)
        invoke_s = 0.0
        ended: list[int] = []
        if run:
            start = time.perf_counter()
            detections: list[Detection] = self.detector.detect(frame.image)
            times.detect = time.perf_counter() - start
            invoke_s = self.detector.last_invoke_s
            self._schedule_next(frame.timestamp)

            start = time.perf_counter()
            rows, columns = frame.image.shape[:2]
            aspect = columns / rows if rows else 4 / 3
            output = self.tracker.update(detections, frame.timestamp, aspect)
            self._tracks = tuple(output.tracks)
            ended = list(output.ended)
            times.track = time.perf_counter() - start

        start = time.perf_counter()
        height, width = frame.image.shape[:2]
        self.analytics.set_frame_size(width, height)
        shelves = self.shelves.update(frame.image, self._tracks, frame.timestamp, frame.index)
        times.shelves = time.perf_counter() - start

        start = time.perf_counter()
        update = self.analytics.update(
            list(self._tracks),
            ended,
            frame.timestamp,
            frame.index,
            shelf_events=shelves.events,
            held=self.shelves.waiting_on(),
        )
        times.analytics = time.perf_counter() - start
        start = time.perf_counter()
        audience = self.audience.update(
            self._tracks, ended, frame.timestamp, frame.index, frame.image if run else None
        )
        times.audience = time.perf_counter() - start
        return FrameResult(
            frame_index=frame.index,
            timestamp=frame.timestamp,
            detected=run,
            people=len(self._tracks),
            tracks=self._tracks,
            analytics=update,
            audience=audience,
            motion=motion,
            invoke_s=invoke_s,
            times=times,
            shelves=shelves,
        )

    def finish(self, timestamp: float, frame_index: int) -> tuple[AnalyticsUpdate, AudienceUpdate]:
        """End every live track (end of a video) so their visits and impressions are summarised."""
        ended = self.tracker.flush()
        self._tracks = ()
        update = self.analytics.update([], ended, timestamp, frame_index)
        return update, self.audience.update([], ended, timestamp, frame_index)
