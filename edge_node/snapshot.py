"""The anonymised snapshot: the only image a node ever sends, and only on request.

Pixelated, with a margin, before anything is drawn or encoded: every person the detector finds
(at a lower score than counting uses, so doubtful people are hidden too), every tracked person,
and — because a detector can miss someone — every region that differs from a slowly learnt
picture of the empty scene (`PrivacyMask`). Zones, lines and display zones are drawn on top so
the installer can check them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from . import messages
from .config import NodeConfig
from .types import Box

PRIVACY_MIN_SCORE = 0.2  # hide anything the model thinks may be a person
MARGIN = 0.15  # grow each box by this share of its size on every side
BLOCK = 12  # pixelation block size in pixels (coarse enough that no face is recognisable)
JPEG_QUALITY = 80

ZONE_COLOUR = (80, 200, 80)
DISPLAY_COLOUR = (220, 160, 40)
LINE_COLOUR = (40, 60, 230)


MASK_WIDTH = 192  # pixels; the background model is kept this small
MASK_WEIGHT = 0.01  # per frame: someone must stand still for minutes to become "background"
MASK_DELTA = 25  # grey levels that count as "different from the empty scene"
MASK_MIN_AREA = 0.0004  # ignore specks smaller than this fraction of the frame


class PrivacyMask:
    """A slowly learnt empty scene; whatever differs from it is hidden in snapshots."""

    def __init__(self) -> None:
        self._background: npt.NDArray[np.float32] | None = None

    def _small_grey(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        height, width = image.shape[:2]
        size = (MASK_WIDTH, max(1, round(height * MASK_WIDTH / width)))
        grey = cv2.cvtColor(
            cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        return cv2.GaussianBlur(grey, (3, 3), 0).astype(np.uint8, copy=False)

    def learn(self, image: npt.NDArray[np.uint8]) -> None:
        grey = self._small_grey(image)
        if self._background is None or self._background.shape != grey.shape:
            self._background = grey.astype(np.float32)
        else:
            cv2.accumulateWeighted(grey, self._background, MASK_WEIGHT)

    def regions(self, image: npt.NDArray[np.uint8]) -> list[Box]:
        """Boxes (normalized) around everything that differs from the learnt background."""
        if self._background is None:
            return []
        grey = self._small_grey(image)
        changed = cv2.absdiff(grey, cv2.convertScaleAbs(self._background)) > MASK_DELTA
        mask = cv2.dilate(changed.astype(np.uint8) * 255, np.ones((5, 5), np.uint8))
        height, width = mask.shape
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[Box] = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= MASK_MIN_AREA * width * height:
                boxes.append((x / width, y / height, (x + w) / width, (y + h) / height))
        return boxes


@dataclass(frozen=True, slots=True)
class Snapshot:
    jpeg: bytes
    width: int
    height: int
    people_pixelated: int

    def to_contract(self, request_id: str, ts: float) -> dict[str, object]:
        return messages.snapshot(
            request_id,
            ts,
            jpeg=self.jpeg,
            width=self.width,
            height=self.height,
            people_pixelated=self.people_pixelated,
        )


def _pixel_rect(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
    left = max(0, int((x1 - dx) * width))
    top = max(0, int((y1 - dy) * height))
    right = min(width, int(np.ceil((x2 + dx) * width)))
    bottom = min(height, int(np.ceil((y2 + dy) * height)))
    return left, top, right, bottom


def pixelate(
    image: npt.NDArray[np.uint8], boxes: Iterable[Box]
) -> tuple[npt.NDArray[np.uint8], int]:
    """A copy of `image` with every box (plus margin) reduced to coarse blocks."""
    out = image.copy()
    height, width = out.shape[:2]
    count = 0
    for box in boxes:
        left, top, right, bottom = _pixel_rect(box, width, height)
        if right - left < 1 or bottom - top < 1:
            continue
        region = out[top:bottom, left:right]
        small = cv2.resize(
            region,
            (max(1, (right - left) // BLOCK), max(1, (bottom - top) // BLOCK)),
            interpolation=cv2.INTER_AREA,
        )
        out[top:bottom, left:right] = cv2.resize(
            small, (right - left, bottom - top), interpolation=cv2.INTER_NEAREST
        )
        count += 1
    return out, count


def _points(
    points: Sequence[tuple[float, float]], width: int, height: int
) -> npt.NDArray[np.int32]:
    return np.array([[round(x * width), round(y * height)] for x, y in points], dtype=np.int32)


def draw_layout(image: npt.NDArray[np.uint8], config: NodeConfig) -> None:
    """Zones, display zones and counting lines, with their ids, drawn in place."""
    height, width = image.shape[:2]
    for zones, colour in ((config.zones, ZONE_COLOUR), (config.displays, DISPLAY_COLOUR)):
        for zone in zones:
            polygon = _points(zone.polygon, width, height)
            cv2.polylines(image, [polygon], isClosed=True, color=colour, thickness=2)
            x, y = polygon.min(axis=0)
            cv2.putText(
                image,
                zone.id,
                (int(x) + 4, int(y) + 18),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.6,
                colour,
                2,
                cv2.LINE_AA,
            )
    for line in config.lines:
        start, end = _points([line.start, line.end], width, height)
        cv2.arrowedLine(
            image, tuple(start.tolist()), tuple(end.tolist()), LINE_COLOUR, 2, tipLength=0.03
        )
        cv2.putText(
            image,
            f"{line.id} (in: s>0)",
            (int(start[0]) + 4, int(start[1]) + 18),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6,
            LINE_COLOUR,
            2,
            cv2.LINE_AA,
        )


def make_snapshot(
    image: npt.NDArray[np.uint8], people: Iterable[Box], config: NodeConfig
) -> Snapshot:
    hidden, count = pixelate(image, people)
    draw_layout(hidden, config)
    ok, encoded = cv2.imencode(".jpg", hidden, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit BGR image
        raise RuntimeError("JPEG encoding failed")
    height, width = hidden.shape[:2]
    return Snapshot(jpeg=encoded.tobytes(), width=width, height=height, people_pixelated=count)
