"""Motion gating: a cheap look at each frame that decides whether the detector needs to run.

The frame is shrunk to a small grey image and compared with a slowly updated average of the
recent past; the share of pixels that changed is the motion. Someone who stands still fades into
the average, so the gate also asks for a detection at least every `keepalive_s` seconds: still
people keep being seen, and tracks never flap because nothing moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

WORK_WIDTH = 160  # pixels; enough to see a person walking, tiny to compute
PIXEL_DELTA = 20  # grey levels; above camera noise, below a person against the floor
AVERAGE_WEIGHT = 0.1  # how fast the background average follows the scene (per frame)


@dataclass(frozen=True, slots=True)
class MotionResult:
    changed: float  # fraction of the frame that changed, 0..1
    moved: bool  # changed >= the configured minimum area
    run_detector: bool  # the decision: motion, keep-alive due, or gating off


class MotionGate:
    """Decides per frame whether to run the detector."""

    def __init__(self, *, enabled: bool, min_area: float, keepalive_s: float) -> None:
        self.enabled = enabled
        self.min_area = min_area
        self.keepalive_s = keepalive_s
        self._average: npt.NDArray[np.float32] | None = None
        self._last_detection: float | None = None

    def _changed_fraction(self, frame_bgr: npt.NDArray[np.uint8]) -> float:
        height, width = frame_bgr.shape[:2]
        small_size = (WORK_WIDTH, max(1, round(height * WORK_WIDTH / width)))
        grey = cv2.cvtColor(
            cv2.resize(frame_bgr, small_size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        grey = cv2.GaussianBlur(grey, (5, 5), 0)
        if self._average is None or self._average.shape != grey.shape:
            self._average = grey.astype(np.float32)
            return 1.0  # nothing to compare with yet: treat as motion so the detector runs
        delta = cv2.absdiff(grey, cv2.convertScaleAbs(self._average))
        cv2.accumulateWeighted(grey, self._average, AVERAGE_WEIGHT)
        return float(np.count_nonzero(delta > PIXEL_DELTA)) / delta.size

    def check(self, frame_bgr: npt.NDArray[np.uint8], timestamp: float) -> MotionResult:
        if not self.enabled:
            return MotionResult(changed=1.0, moved=True, run_detector=True)
        changed = self._changed_fraction(frame_bgr)
        moved = changed >= self.min_area
        due = self._last_detection is None or timestamp - self._last_detection >= self.keepalive_s
        run = moved or due
        if run:
            self._last_detection = timestamp
        return MotionResult(changed=changed, moved=moved, run_detector=run)
