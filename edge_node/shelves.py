"""Shelves: what was taken from, returned to or restocked on each watched shelf, model-free.

No shelf model ships in any package the node may use, so a shelf is compared with pictures of
itself. A shelf is only looked at when no tracked person's box (grown by a margin) has touched it
for `settle_s` seconds: a person standing in front is never a change, and the tracker, not a
background subtractor, decides when the shelf is in view. Each product area is split into its
facings; a facing is compared with its reference by normalised cross-correlation, which does not
change when the light gets brighter or darker. A change is accepted when two quiet looks in a row
see the same facings changed in the same way; then the product's fill (facings matching the "as
stocked" picture) says taken / returned / restocked and by how much, the tracks that touched
the shelf meanwhile get it in their cart, and the reference becomes the shelf as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from .config import ShelfConfig
from .recognise import ProductMatcher
from .types import Box, Track

Change = Literal["taken", "returned", "restocked", "low", "empty"]
Status = Literal["ok", "low", "empty"]
Gray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ShelfEvent:
    """A change on a shelf, with the product's level after it and who touched the shelf."""

    shelf: str
    product: str | None
    change: Change
    level: float  # the product's level after the change (the shelf's for low/empty)
    magnitude: float  # share of the product's facings that changed (0 for low/empty)
    count: int  # facings that changed
    track: int | None
    timestamp: float
    frame_index: int


@dataclass(frozen=True, slots=True)
class StockLevel:
    shelf: str
    product: str | None  # None: the whole shelf
    level: float
    status: Status


def ncc(a: Gray, b: Gray) -> float:
    """Normalised cross-correlation of two patches: 1 alike, ~0 unrelated; blind to gain/offset."""
    a0, b0 = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    return float((a0 * b0).sum() / den) if den > 1e-6 else 0.0


def _flat(patch: Gray, min_std: float) -> bool:
    return float(patch.std()) < min_std


@dataclass(slots=True)
class _Area:
    """A product's area on the shelf: its facings as pixel rectangles inside the shelf crop."""

    product: str | None
    cells: list[tuple[int, int, int, int]]  # x1, y1, x2, y2 in crop pixels
    present: list[bool] = field(default_factory=list)  # per facing: a product is there
    level: float = 1.0
    status: Status = "ok"
    low_since: float | None = None


@dataclass(slots=True)
class _Pending:
    cells: frozenset[tuple[int, int]]  # (area index, cell index)
    patch: Gray
    since: float  # first look that saw it


@dataclass(slots=True)
class ShelfWatcher:
    """One shelf: its references, its quiet state and its products' levels."""

    config: ShelfConfig
    size: tuple[int, int]  # frame width, height
    matcher: ProductMatcher | None = None
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)  # x1, y1, x2, y2 of the shelf in the frame
    areas: list[_Area] = field(default_factory=list)
    stocked: Gray | None = None  # "as stocked": what level 1.0 looks like
    reference: Gray | None = None  # the shelf as last accepted
    last_touch: float = -1e18
    last_look: float = -1e18
    touched_by: dict[int, int] = field(default_factory=dict)  # track → frames touching
    pending: _Pending | None = None
    recalibrate: bool = False
    candidate: Gray | None = (
        None  # a first look at the shelf to be "as stocked", if the next agrees
    )

    def __post_init__(self) -> None:
        width, height = self.size
        xs = [p[0] * width for p in self.config.polygon]
        ys = [p[1] * height for p in self.config.polygon]
        x1, y1 = max(0, int(min(xs))), max(0, int(min(ys)))
        x2, y2 = min(width, int(np.ceil(max(xs)))), min(height, int(np.ceil(max(ys))))
        self.crop = (x1, y1, x2, y2)
        self.areas = [self._area(p.id, p.area, p.facings) for p in self.config.products]
        if not self.areas:
            self.areas = [self._area(None, self.config.polygon, self.config.facings)]

    def _area(self, product: str | None, polygon: Sequence[tuple[float, float]], n: int) -> _Area:
        width, height = self.size
        cx, cy = self.crop[0], self.crop[1]
        ax1 = int(min(p[0] for p in polygon) * width) - cx
        ax2 = int(max(p[0] for p in polygon) * width) - cx
        ay1 = int(min(p[1] for p in polygon) * height) - cy
        ay2 = int(max(p[1] for p in polygon) * height) - cy
        ax1, ay1 = max(0, ax1), max(0, ay1)
        ax2, ay2 = min(self.crop[2] - cx, ax2), min(self.crop[3] - cy, ay2)
        step = (ax2 - ax1) / n
        # A facing's border blends with its neighbours and the shelf: compare its middle.
        inset_x, inset_y = max(1, int(step * 0.1)), max(1, int((ay2 - ay1) * 0.1))
        cells = [
            (
                int(ax1 + i * step) + inset_x,
                ay1 + inset_y,
                int(ax1 + (i + 1) * step) - inset_x,
                ay2 - inset_y,
            )
            for i in range(n)
        ]
        return _Area(product, cells, [True] * n)

    # --- seeing -------------------------------------------------------------------------------

    def gray(self, image: npt.NDArray[np.uint8]) -> Gray:
        x1, y1, x2, y2 = self.crop
        patch = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY).astype(np.float32)
        return np.asarray(cv2.GaussianBlur(patch, (3, 3), 0), dtype=np.float32)

    def touches(self, box: Box) -> bool:
        """Whether a person's box, grown by the margin, overlaps the shelf."""
        width, height = self.size
        x1, y1, x2, y2 = box
        grow_x = (x2 - x1) * self.config.margin
        grow_y = (y2 - y1) * self.config.margin
        sx1, sy1, sx2, sy2 = self.crop
        return not (
            (x2 + grow_x) * width < sx1
            or (x1 - grow_x) * width > sx2
            or (y2 + grow_y) * height < sy1
            or (y1 - grow_y) * height > sy2
        )

    def _same(self, a: Gray, b: Gray, cell: tuple[int, int, int, int]) -> bool:
        x1, y1, x2, y2 = cell
        pa, pb = a[y1:y2, x1:x2], b[y1:y2, x1:x2]
        min_std = self.config.min_texture
        if _flat(pa, min_std) and _flat(pb, min_std):
            # Both plain (an empty shelf board): alike unless the brightness moved a lot.
            ratio = (float(pa.mean()) + 1.0) / (float(pb.mean()) + 1.0)
            return bool(abs(np.log(ratio)) < np.log(1.5))
        return ncc(pa, pb) >= self.config.change_threshold

    def _changed(self, now: Gray, reference: Gray) -> frozenset[tuple[int, int]]:
        return frozenset(
            (ai, ci)
            for ai, area in enumerate(self.areas)
            for ci, cell in enumerate(area.cells)
            if not self._same(now, reference, cell)
        )

    def _refill(self, now: Gray, area: _Area, cells: list[int]) -> None:
        """Changed facings: stocked-looking ones are there; any other change flips the facing
        (a product gone, or one put where the shelf was bare)."""
        assert self.stocked is not None
        for ci in cells:
            if self._same(now, self.stocked, area.cells[ci]):
                area.present[ci] = True
            else:
                area.present[ci] = not area.present[ci]
        area.level = round(sum(area.present) / len(area.present), 3)

    # --- deciding -----------------------------------------------------------------------------

    def update(
        self, image: npt.NDArray[np.uint8], tracks: Sequence[Track], timestamp: float, index: int
    ) -> list[ShelfEvent]:
        """One frame: note who touches the shelf, and look at it when it has been quiet."""
        touching = [t.track_id for t in tracks if self.touches(t.box)]
        for track_id in touching:
            self.touched_by[track_id] = self.touched_by.get(track_id, 0) + 1
        if touching:
            self.last_touch = timestamp
            return []
        cfg = self.config
        if timestamp - self.last_touch < cfg.settle_s or timestamp - self.last_look < cfg.look_s:
            return []
        self.last_look = timestamp
        now = self.gray(image)
        if self.reference is None or self.stocked is None or self.recalibrate:
            self._calibrate(now)
            return []
        changed = self._changed(now, self.reference)
        if not changed:
            self.pending = None
            self.touched_by.clear()
            return []
        pending = self.pending
        if pending is None or pending.cells != changed or self._changed(now, pending.patch):
            self.pending = _Pending(changed, now, timestamp)
            return []  # not yet seen the same way twice
        if not self.touched_by and timestamp - pending.since < cfg.untouched_s:
            # Nobody tracked came near: most likely someone the detector missed, or a shadow.
            return []
        return self._accept(image, now, changed, timestamp, index)

    def _calibrate(self, now: Gray) -> None:
        """Take the shelf as full once two looks in a row agree: a person in view before the
        tracker has confirmed them (the first frames of a run) must not become the reference."""
        candidate, self.candidate = self.candidate, now
        if candidate is None or self._changed(now, candidate):
            return
        self.candidate = None
        self.stocked, self.reference, self.pending, self.recalibrate = now, now, None, False
        for area in self.areas:
            area.level, area.status, area.low_since = 1.0, "ok", None
            area.present = [True] * len(area.cells)
        self.touched_by.clear()

    def _accept(
        self,
        image: npt.NDArray[np.uint8],
        now: Gray,
        changed: frozenset[tuple[int, int]],
        timestamp: float,
        index: int,
    ) -> list[ShelfEvent]:
        track = max(self.touched_by, key=lambda t: self.touched_by[t]) if self.touched_by else None
        events = []
        for ai, area in enumerate(self.areas):
            cells = [ci for a, ci in changed if a == ai]
            if not cells:
                continue
            before = area.level
            self._refill(now, area, cells)
            delta = area.level - before
            count = round(abs(delta) * len(area.cells))
            if count == 0:
                continue  # moved or turned, the fill is the same
            change: Change = "taken" if delta < 0 else "returned"
            product = area.product
            if delta > 0:
                if count >= self.config.restock_facings:
                    change = "restocked"
                product = self._recognise(image, area, cells) or product
            events.append(
                ShelfEvent(
                    self.config.id,
                    product,
                    change,
                    area.level,
                    round(abs(delta), 3),
                    count,
                    track,
                    timestamp,
                    index,
                )
            )
        self.reference, self.pending = now, None
        self.touched_by.clear()
        return events

    def _recognise(self, image: npt.NDArray[np.uint8], area: _Area, cells: list[int]) -> str | None:
        """Which owner photo the returned facing shows, when photos are configured."""
        if self.matcher is None:
            return None
        x0, y0 = self.crop[0], self.crop[1]
        x1 = x0 + min(area.cells[c][0] for c in cells)
        x2 = x0 + max(area.cells[c][2] for c in cells)
        y1, y2 = y0 + area.cells[0][1], y0 + area.cells[0][3]
        return self.matcher.best(image[y1:y2, x1:x2])

    # --- stock --------------------------------------------------------------------------------

    def shelf_level(self) -> float:
        cells = sum(len(a.cells) for a in self.areas)
        return round(sum(a.level * len(a.cells) for a in self.areas) / cells, 3)

    def statuses(self, timestamp: float) -> list[tuple[_Area, Status]]:
        """Areas whose low-stock status changed now (low after `low_after_s`, back with margin)."""
        cfg = self.config
        changed = []
        for area in self.areas:
            status = area.status
            if area.level <= 0.0:
                status = "empty"
            elif area.level < cfg.low_level:
                area.low_since = timestamp if area.low_since is None else area.low_since
                if status == "empty" or timestamp - area.low_since >= cfg.low_after_s:
                    status = "low"
            elif area.level >= cfg.low_level + cfg.low_hysteresis:
                status, area.low_since = "ok", None
            if status != area.status:
                area.status = status
                changed.append((area, status))
        return changed

    def levels(self) -> list[StockLevel]:
        shelf_status: Status = "ok"
        for area in self.areas:
            if area.status == "empty" or (area.status == "low" and shelf_status == "ok"):
                shelf_status = area.status
        out = [StockLevel(self.config.id, None, self.shelf_level(), shelf_status)]
        if self.areas[0].product is not None:
            out += [StockLevel(self.config.id, a.product, a.level, a.status) for a in self.areas]
        return out


@dataclass(frozen=True, slots=True)
class ShelvesUpdate:
    events: list[ShelfEvent]
    stock: list[StockLevel]  # every level, when one of them changed this frame; else empty


class Shelves:
    """The pipeline stage: every configured shelf, fed with each frame and its tracks."""

    def __init__(self, shelves: Sequence[ShelfConfig]) -> None:
        self.configs = list(shelves)
        self.watchers: dict[str, ShelfWatcher] = {}
        self._last: list[StockLevel] = []

    def _ensure(self, width: int, height: int) -> None:
        if self.watchers and next(iter(self.watchers.values())).size == (width, height):
            return
        self.watchers = {
            c.id: ShelfWatcher(c, (width, height), ProductMatcher.from_config(c))
            for c in self.configs
        }

    def waiting_on(self) -> set[int]:
        """Tracks that touched a shelf not looked at since: a change may still be theirs."""
        return {t for w in self.watchers.values() for t in w.touched_by}

    def recalibrate(self, shelf_id: str | None) -> str | None:
        """Take the shelf as fully stocked at its next quiet look; an error text if unknown."""
        ids = [c.id for c in self.configs]
        if shelf_id is not None and shelf_id not in ids:
            return f"unknown shelf {shelf_id!r}; this node watches {', '.join(ids) or 'none'}"
        for watcher in self.watchers.values():
            if shelf_id is None or watcher.config.id == shelf_id:
                watcher.recalibrate = True
        return None

    def update(
        self, image: npt.NDArray[np.uint8], tracks: Sequence[Track], timestamp: float, index: int
    ) -> ShelvesUpdate:
        if not self.configs:
            return ShelvesUpdate([], [])
        self._ensure(image.shape[1], image.shape[0])
        events: list[ShelfEvent] = []
        for watcher in self.watchers.values():
            if watcher.stocked is None:
                watcher.recalibrate = True
            events += watcher.update(image, tracks, timestamp, index)
            for area, status in watcher.statuses(timestamp):
                if status != "ok":
                    level = area.level
                    events.append(
                        ShelfEvent(
                            watcher.config.id,
                            area.product,
                            status,
                            level,
                            0.0,
                            0,
                            None,
                            timestamp,
                            index,
                        )
                    )
        levels = [lv for w in self.watchers.values() if w.stocked is not None for lv in w.levels()]
        stock = levels if levels != self._last else []
        self._last = levels
        return ShelvesUpdate(events, stock)
