"""The persona stage: behaviour, groups and staff per visit, and the live mix of who is in view.

It wires `behaviour.py` (movement), `groups.py` (people moving together) and `persona.py` (the
rules) to the visits the visit book closes. Whatever it keeps about a person is dropped when
their visit ends.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..config import NodeConfig, PersonaConfig
from ..types import Track
from .behaviour import BehaviourRecorder, VisitFeatures
from .groups import GroupFinder
from .lines import Crossing
from .persona import classify, is_staff
from .visits import VisitBook, VisitSummary
from .zones import ZoneOccupancy

MIX_REFRESH_S = 1.0  # the live mix is recomputed at most this often

# Hook for the shelf stage: products a track took or put back so far (None: no shelf stage).
ShelfInteractions = Callable[[int], int]


@dataclass(frozen=True, slots=True)
class PersonaMix:
    """Provisional personas of the people in view, for the node and per zone (staff apart)."""

    total: dict[str, int]
    zones: dict[str, dict[str, int]]
    staff: int

    def to_contract(self) -> dict[str, object]:
        return {"total": dict(self.total), "zones": {k: dict(v) for k, v in self.zones.items()}}


class PersonaStage:
    """Labels each finished visit; keeps the live mix of personas in view."""

    def __init__(
        self,
        rules: PersonaConfig,
        displays: Sequence[Sequence[tuple[float, float]]] = (),
        entrances: frozenset[str] = frozenset(),
    ) -> None:
        self.rules = rules
        self.entrances = entrances
        self.recorder = BehaviourRecorder(displays, rules.stop_speed, rules.stop_min_s)
        self.groups = GroupFinder(rules.groups, standing_speed=rules.stop_speed)
        self.shelf_interactions: ShelfInteractions | None = None
        self._mix_at: float | None = None
        self._staff: frozenset[int] = frozenset()

    @classmethod
    def from_config(cls, config: NodeConfig) -> PersonaStage:
        return cls(
            config.personas,
            [tuple(d.polygon) for d in config.displays],
            frozenset(line.id for line in config.lines if line.entrance),
        )

    def set_aspect(self, aspect: float) -> None:
        """Frame width / height, so distances across and along the view measure alike."""
        self.recorder.aspect = self.groups.aspect = aspect

    def update(
        self,
        tracks: Sequence[Track],
        ended: Sequence[int],
        visits: list[VisitSummary],
        timestamp: float,
        *,
        book: VisitBook,
        zones: ZoneOccupancy,
    ) -> tuple[list[VisitSummary], frozenset[int], PersonaMix | None]:
        """This update's finished visits labelled, the tracks that look like staff now, and the
        live mix when it is due."""
        self.recorder.update(tracks, timestamp)
        self.groups.update(tracks, self.recorder.motion, timestamp)
        labelled = [self._label(visit) for visit in visits]
        done = {visit.track_id for visit in visits}
        for track_id in ended:
            if track_id not in done:
                self.groups.leave(track_id)  # a fragment too short to be a visit
            self.recorder.forget(track_id)
        mix = None
        due = self._mix_at is None or timestamp - self._mix_at >= MIX_REFRESH_S
        if due or ended:
            self._mix_at = timestamp
            staff: set[int] = set()
            mix = self._mix(tracks, book, zones, timestamp, staff)
            self._staff = frozenset(staff)
        else:  # between refreshes: who looked like staff at the last one, if still in view
            self._staff = self._staff & {t.track_id for t in tracks}
        return labelled, self._staff, mix

    def _features(
        self,
        track_id: int,
        zones: dict[str, float],
        path: Sequence[str],
        entered: bool,
        group_size: int = 1,
    ) -> VisitFeatures:
        interactions = self.shelf_interactions(track_id) if self.shelf_interactions else None
        return self.recorder.features(
            track_id, zones, path, entered, interactions=interactions, group_size=group_size
        )

    def _entered(self, crossings: Sequence[Crossing]) -> bool:
        return any(c.line_id in self.entrances and c.direction == "in" for c in crossings)

    def _label(self, visit: VisitSummary) -> VisitSummary:
        group = self.groups.leave(visit.track_id)
        entered = self._entered(visit.crossings)
        features = self._features(visit.track_id, visit.zones, visit.path, entered, group.size)
        persona = classify(features, self.rules, bool(self.entrances))
        if persona == "staff_like":
            return dataclasses.replace(visit, persona=persona, staff=True, features=features)
        return dataclasses.replace(
            visit,
            persona=persona,
            group_size=group.size,
            new_unit=group.new_unit,
            features=features,
            group_tracks=group.members,
        )

    def _live(self, track_id: int, book: VisitBook, now: float) -> tuple[str, bool]:
        """A person still in view: their persona so far, and whether they look like staff."""
        duration, zones, path = book.so_far(track_id, now)
        features = self._features(track_id, zones, path, entered=False)
        features = dataclasses.replace(features, duration_s=max(features.duration_s, duration))
        if is_staff(features, self.rules.staff):
            return "staff_like", True
        # Whether they came in is only known for crossings already made; judge behaviour alone.
        return classify(features, self.rules, has_entrances=False), False

    def _mix(
        self,
        tracks: Sequence[Track],
        book: VisitBook,
        zones: ZoneOccupancy,
        now: float,
        staff: set[int],
    ) -> PersonaMix:
        total: Counter[str] = Counter()
        per_zone: dict[str, Counter[str]] = {zone.id: Counter() for zone in zones.zones}
        for track in tracks:
            persona, looks_staff = self._live(track.track_id, book, now)
            if looks_staff:
                staff.add(track.track_id)
                continue
            total[persona] += 1
            for zone_id in zones.zones_of(track.track_id):
                per_zone[zone_id][persona] += 1
        return PersonaMix(
            dict(total), {zone: dict(counts) for zone, counts in per_zone.items()}, len(staff)
        )
