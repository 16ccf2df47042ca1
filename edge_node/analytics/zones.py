"""Zone occupancy by the bottom-centre anchor, with inertia against flicker.

A person enters a zone only after standing in it for `enter_s` seconds and leaves only after
`exit_s` seconds outside, so a box that jitters across a zone's edge does not flap. The enter
and exit times reported are when the person really crossed (the start of the streak), so dwell
times are not shortened by the inertia.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..types import Point, Track
from .geometry import inside


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    polygon: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    zone_id: str
    track_id: int
    kind: Literal["enter", "exit"]
    timestamp: float


@dataclass(slots=True)
class _Presence:
    inside: bool = False
    streak_start: float | None = None  # when the anchor started disagreeing with `inside`


class ZoneOccupancy:
    def __init__(self, zones: Iterable[Zone], enter_s: float = 0.5, exit_s: float = 1.0) -> None:
        self.zones = list(zones)
        self.enter_s = enter_s
        self.exit_s = exit_s
        self._presence: dict[tuple[str, int], _Presence] = {}
        self._in_view: set[int] = set()

    def update(
        self, tracks: Iterable[Track], ended: Iterable[int], timestamp: float
    ) -> list[ZoneEvent]:
        events: list[ZoneEvent] = []
        tracks = list(tracks)
        self._in_view = {track.track_id for track in tracks}
        for track in tracks:
            for zone in self.zones:
                event = self._step(
                    zone, track.track_id, inside(track.anchor, zone.polygon), timestamp
                )
                if event is not None:
                    events.append(event)
        for track_id in ended:
            events.extend(self._leave_all(track_id, timestamp))
        return events

    def _step(
        self, zone: Zone, track_id: int, now_inside: bool, timestamp: float
    ) -> ZoneEvent | None:
        presence = self._presence.setdefault((zone.id, track_id), _Presence())
        if now_inside == presence.inside:
            presence.streak_start = None
            return None
        if presence.streak_start is None:
            presence.streak_start = timestamp
        hold = self.enter_s if now_inside else self.exit_s
        if timestamp - presence.streak_start < hold:
            return None
        presence.inside = now_inside
        started, presence.streak_start = presence.streak_start, None
        return ZoneEvent(zone.id, track_id, "enter" if now_inside else "exit", started)

    def _leave_all(self, track_id: int, timestamp: float) -> list[ZoneEvent]:
        events = []
        for zone in self.zones:
            presence = self._presence.pop((zone.id, track_id), None)
            if presence is not None and presence.inside:
                events.append(ZoneEvent(zone.id, track_id, "exit", timestamp))
        return events

    def occupancy(self) -> dict[str, int]:
        """People in each zone now: a person out of view (not yet ended) is in no zone."""
        counts = {zone.id: 0 for zone in self.zones}
        for (zone_id, track_id), presence in self._presence.items():
            if presence.inside and track_id in self._in_view:
                counts[zone_id] += 1
        return counts

    def zones_of(self, track_id: int) -> list[str]:
        """The zones a person in view is in now."""
        if track_id not in self._in_view:
            return []
        return [
            zone.id
            for zone in self.zones
            if (p := self._presence.get((zone.id, track_id))) is not None and p.inside
        ]
