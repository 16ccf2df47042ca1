"""Visits: how long each person stayed, and where, summarised when their track ends."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from ..shelves import ShelfEvent
from ..types import Track
from .behaviour import VisitFeatures
from .lines import Crossing
from .zones import ZoneEvent


@dataclass(frozen=True, slots=True)
class VisitSummary:
    track_id: int
    started: float
    ended: float
    zones: dict[str, float]  # dwell seconds per zone
    path: tuple[str, ...]  # zones in the order they were entered
    crossings: tuple[Crossing, ...]
    # Filled in by the persona stage (analytics/__init__.py); defaults when personas are off.
    persona: str | None = None
    group_size: int = 1
    new_unit: bool = True  # the first of its group to leave, or alone: one shopping unit
    staff: bool = False
    features: VisitFeatures | None = None  # what the persona was decided from (offline use)
    group_tracks: tuple[int, ...] = ()  # the group's track ids: offline evaluation only
    # Products (or shelves, where no products are set) taken and returned: an anonymous cart.
    cart: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.ended - self.started


@dataclass(slots=True)
class _Visit:
    started: float
    last_seen: float
    zones: dict[str, float] = field(default_factory=dict)
    entered: dict[str, float] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    cart: dict[str, list[str]] = field(default_factory=dict)


def is_visitor(visit: VisitSummary, entrances: Collection[str]) -> bool:
    """Counted in "visitors today": a shopper (not staff) who came in through one of the
    `entrances` (counting line ids), or — where no line is an entrance — every visit reported
    (seen at least `analytics.min_visit_s`; shorter tracks are no visit)."""
    if visit.staff:
        return False
    if not entrances:
        return True
    return any(c.line_id in entrances and c.direction == "in" for c in visit.crossings)


# How long a finished visit may wait for a shelf it touched to be seen again, so that what the
# person took still goes into their cart.
MAX_HOLD_S = 30.0


class VisitBook:
    """Accumulates dwell per zone per track; short visits (noise, passers-by) are not reported."""

    def __init__(self, min_visit_s: float = 2.0) -> None:
        self.min_visit_s = min_visit_s
        self._open: dict[int, _Visit] = {}
        self._held: dict[int, tuple[_Visit, float]] = {}  # ended, waiting for a shelf: since

    def add_to_carts(self, events: Iterable[ShelfEvent]) -> None:
        """A take or return goes into the cart of the visit whose person touched the shelf."""
        for event in events:
            visit = self._visit(event.track)
            if visit is None or event.change not in ("taken", "returned"):
                continue
            item = event.product or event.shelf
            visit.cart.setdefault(event.change, []).extend([item] * max(1, event.count))

    def _visit(self, track_id: int | None) -> _Visit | None:
        if track_id is None:
            return None
        held = self._held.get(track_id)
        return self._open.get(track_id) or (held[0] if held else None)

    def update(
        self,
        tracks: Iterable[Track],
        ended: Iterable[int],
        zone_events: Iterable[ZoneEvent],
        crossings: Iterable[Crossing],
        timestamp: float,
        *,
        held: Collection[int] = (),
    ) -> list[VisitSummary]:
        """`held`: tracks a shelf still has to look at; their visits end once it has."""
        for track in tracks:
            visit = self._open.setdefault(track.track_id, _Visit(timestamp, timestamp))
            visit.last_seen = timestamp
        for event in zone_events:
            visit = self._open.setdefault(event.track_id, _Visit(event.timestamp, timestamp))
            if event.kind == "enter":
                visit.entered[event.zone_id] = event.timestamp
                if not visit.path or visit.path[-1] != event.zone_id:
                    visit.path.append(event.zone_id)
            else:
                since = visit.entered.pop(event.zone_id, None)
                if since is not None:
                    spent = max(0.0, event.timestamp - since)
                    visit.zones[event.zone_id] = visit.zones.get(event.zone_id, 0.0) + spent
        for crossing in crossings:
            if crossing.track_id in self._open:
                self._open[crossing.track_id].crossings.append(crossing)
        for track_id in ended:
            if track_id in self._open:
                self._held[track_id] = (self._open.pop(track_id), timestamp)
        finished = []
        for track_id, (visit, since) in list(self._held.items()):
            if track_id in held and timestamp - since < MAX_HOLD_S:
                continue
            del self._held[track_id]
            if visit.last_seen - visit.started >= self.min_visit_s:
                finished.append(_summary(track_id, visit))
        return finished

    def so_far(self, track_id: int, now: float) -> tuple[float, dict[str, float], list[str]]:
        """A visit still going on: seconds in view, dwell per zone (open stays counted to now)
        and the zones in order."""
        visit = self._open.get(track_id)
        if visit is None:
            return 0.0, {}, []
        zones = dict(visit.zones)
        for zone_id, since in visit.entered.items():
            zones[zone_id] = zones.get(zone_id, 0.0) + max(0.0, now - since)
        return visit.last_seen - visit.started, zones, list(visit.path)


def _summary(track_id: int, visit: _Visit) -> VisitSummary:
    return VisitSummary(
        track_id,
        visit.started,
        visit.last_seen,
        dict(visit.zones),
        tuple(visit.path),
        tuple(visit.crossings),
        cart={change: tuple(items) for change, items in visit.cart.items()},
    )
