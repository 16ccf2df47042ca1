"""Small typed values that flow between pipeline stages.

Coordinates are normalized to the frame: x to the right, y down, both in [0, 1].
A box is (x1, y1, x2, y2). People are anchored at the bottom-centre of their box (their feet),
which is what zones and counting lines test against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Box = tuple[float, float, float, float]
Point = tuple[float, float]


def bottom_centre(box: Box) -> Point:
    """The point where a person stands: middle of the box's bottom edge."""
    x1, _, x2, y2 = box
    return ((x1 + x2) / 2.0, y2)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded camera frame (BGR, as OpenCV delivers it)."""

    index: int  # decode order, from 0
    timestamp: float  # seconds; video time for files, wall clock for live cameras
    image: npt.NDArray[np.uint8] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Detection:
    """A person found by the detector in one frame."""

    box: Box
    score: float


@dataclass(frozen=True, slots=True)
class Track:
    """A person followed across frames. Ids are anonymous and never reused within a run."""

    track_id: int
    box: Box
    score: float

    @property
    def anchor(self) -> Point:
        return bottom_centre(self.box)
