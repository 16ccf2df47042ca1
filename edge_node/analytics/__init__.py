"""Analytics: zones, counting lines, visits and personas, fed with tracks one update at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..config import NodeConfig
from ..shelves import ShelfEvent
from ..types import Track
from .lines import CountingLine, Crossing, LineCounter
from .persona_stage import PersonaMix, PersonaStage
from .visits import VisitBook, VisitSummary, is_visitor
from .zones import Zone, ZoneEvent, ZoneOccupancy

__all__ = [
    "Analytics",
    "AnalyticsUpdate",
    "CountingLine",
    "Crossing",
    "PersonaMix",
    "VisitSummary",
    "Zone",
    "ZoneEvent",
    "is_visitor",
]


@dataclass(frozen=True, slots=True)
class AnalyticsUpdate:
    total: int  # people in view
    occupancy: dict[str, int]  # people per zone
    zone_events: list[ZoneEvent]
    crossings: list[Crossing]
    visits: list[VisitSummary]
    staff: frozenset[int] = frozenset()  # tracks in view that look like staff now
    mix: PersonaMix | None = None  # provisional personas in view (None: not refreshed now)


class Analytics:
    def __init__(
        self,
        zones: ZoneOccupancy,
        lines: LineCounter,
        visits: VisitBook,
        personas: PersonaStage | None = None,
    ) -> None:
        self.zones = zones
        self.lines = lines
        self.visits = visits
        self.personas = personas

    @classmethod
    def from_config(cls, config: NodeConfig) -> Analytics:
        settings = config.analytics
        zones = [Zone(z.id, z.name, tuple(z.polygon)) for z in config.zones]
        lines = [CountingLine(ln.id, ln.name, ln.start, ln.end, ln.invert) for ln in config.lines]
        return cls(
            ZoneOccupancy(zones, settings.zone_enter_s, settings.zone_exit_s),
            LineCounter(lines, config.tuning().line_margin),
            VisitBook(settings.min_visit_s),
            PersonaStage.from_config(config) if config.personas.enabled else None,
        )

    def set_frame_size(self, width: int, height: int) -> None:
        """The camera's frame size, for distances measured in body heights."""
        if self.personas is not None and width > 0 and height > 0:
            self.personas.set_aspect(width / height)

    def update(
        self,
        tracks: Sequence[Track],
        ended: Sequence[int],
        timestamp: float,
        frame_index: int,
        *,
        shelf_events: Sequence[ShelfEvent] = (),
        held: Collection[int] = (),
    ) -> AnalyticsUpdate:
        """`held`: tracks whose shelf changes are still being looked at (their carts wait)."""
        zone_events = self.zones.update(tracks, ended, timestamp)
        crossings = self.lines.update(tracks, ended, timestamp, frame_index)
        self.visits.add_to_carts(shelf_events)
        visits = self.visits.update(tracks, ended, zone_events, crossings, timestamp, held=held)
        update = AnalyticsUpdate(
            total=len(tracks),
            occupancy=self.zones.occupancy(),
            zone_events=zone_events,
            crossings=crossings,
            visits=visits,
        )
        if self.personas is None:
            return update
        labelled, staff, mix = self.personas.update(
            tracks, ended, visits, timestamp, book=self.visits, zones=self.zones
        )
        return dataclasses.replace(update, visits=labelled, staff=staff, mix=mix)
