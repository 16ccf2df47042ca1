"""Weight fusion: a shelf's scale (any Home Assistant sensor the owner picks) checked against
what the camera saw on that shelf.

A weight drop while the camera reports a `taken` on the shelf within the window confirms the
take and counts products as the drop over the unit weight; a drop the camera does not see
within the window (a scale bumped, a product moved, the camera blocked) is flagged, never
counted. Rises (returns, restocking) are left to the camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

# Keys of one scale in the store's options (`shelf_scales`, keyed by `<node id>/<shelf id>`).
SCALE_ENTITY = "entity_id"
SCALE_UNIT_WEIGHT = "unit_weight"
SCALE_WINDOW_S = "window_s"
DEFAULT_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class ShelfScale:
    """The owner's choice for one shelf: which entity weighs it, and what one product weighs."""

    node_id: str
    shelf_id: str
    entity_id: str
    unit_weight: float  # in the scale's own unit
    window_s: float = DEFAULT_WINDOW_S

    @property
    def key(self) -> str:
        return f"{self.node_id}/{self.shelf_id}"

    @classmethod
    def from_option(cls, key: str, option: dict[str, Any]) -> Self:
        node_id, _, shelf_id = key.partition("/")
        return cls(
            node_id=node_id,
            shelf_id=shelf_id,
            entity_id=str(option[SCALE_ENTITY]),
            unit_weight=float(option[SCALE_UNIT_WEIGHT]),
            window_s=float(option.get(SCALE_WINDOW_S, DEFAULT_WINDOW_S)),
        )

    def to_option(self) -> dict[str, Any]:
        return {
            SCALE_ENTITY: self.entity_id,
            SCALE_UNIT_WEIGHT: self.unit_weight,
            SCALE_WINDOW_S: self.window_s,
        }


@dataclass(slots=True, eq=False)  # each drop is its own, even at the same time and size
class Drop:
    """A fall in weight of at least half a product, waiting for the camera."""

    at: float
    delta: float


@dataclass(slots=True)
class WeightFusion:
    """The fused figures of one shelf; times are seconds on one monotonic clock."""

    unit_weight: float
    window_s: float
    counted: int = 0  # products taken, confirmed by the camera, counted by weight
    flagged: int = 0  # drops the camera did not confirm
    last_count: int | None = None
    last_drop: float | None = None
    _weight: float | None = None
    _takes: list[float] = field(default_factory=list)  # camera takes no drop has used yet
    _drops: list[Drop] = field(default_factory=list)  # drops no camera take has confirmed yet

    def weight(self, value: float, at: float) -> Drop | None:
        """A new reading; returns the drop when it waits for the camera (the caller flags it
        with `expire` after the window), None when it was confirmed at once or is no drop."""
        before, self._weight = self._weight, value
        if before is None or before - value < self.unit_weight / 2:
            return None
        drop = Drop(at, before - value)
        self._forget(at)
        if self._takes:
            self._takes.pop(0)
            self._confirm(drop)
            return None
        self._drops.append(drop)
        return drop

    def camera_taken(self, at: float) -> None:
        """The camera saw a product taken from this shelf."""
        self._forget(at)
        if self._drops:
            self._confirm(self._drops.pop(0))
        else:
            self._takes.append(at)

    def expire(self, drop: Drop) -> bool:
        """The window of `drop` is over: flag it if no camera take confirmed it."""
        if drop not in self._drops:
            return False
        self._drops.remove(drop)
        self.flagged += 1
        return True

    def _confirm(self, drop: Drop) -> None:
        count = max(1, round(drop.delta / self.unit_weight))
        self.counted += count
        self.last_count, self.last_drop = count, round(drop.delta, 3)

    def _forget(self, now: float) -> None:
        self._takes = [t for t in self._takes if now - t <= self.window_s]
