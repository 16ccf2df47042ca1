"""Display audience: who passed a display zone, who stayed, and (opt-in) who watched.

Per display zone: a *passer* (opportunity to see) is a person who entered the zone; a
*dweller* stayed at least `dwell_s` and gives one impression when they leave. With attention on,
a face reader looks at the head region of every person inside a display zone on each detector
frame; a frontal face held for at least `min_look_s` (Geopath's one second) makes the person a
watcher, and those held spells summed are their attention time. With mood on, the expressions
of their frontal faces are averaged into one coarse mood for the impression, which only ever
leaves the node inside aggregates (see `counters.py`).

Zone membership uses the same feet anchor and enter/exit inertia as the ordinary zones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from .analytics.zones import Zone, ZoneOccupancy
from .config import NodeConfig
from .types import Box, Track

if TYPE_CHECKING:
    from .faces import Look

MOODS = ("positive", "neutral", "negative")
# A person not looked at for longer than this (motion gate, detector rate) gets no credit for
# the gap: attention is only counted over what was seen.
MAX_SAMPLE_GAP_S = 0.5


class Looker(Protocol):
    """What the audience needs from a face reader (faces.FaceReader)."""

    def look(self, frame: npt.NDArray[np.uint8], person: Box) -> Look: ...


@dataclass(frozen=True, slots=True)
class Impression:
    """A person who dwelt in a display zone, summarised when they left it."""

    display_id: str
    track_id: int
    frame_index: int
    started: float
    duration_s: float
    looked: bool
    attention_s: float
    mood: str | None  # only with mood on and a watcher
    offer: str | None  # what the display showed when they left


@dataclass(frozen=True, slots=True)
class AudienceUpdate:
    passers: list[str]  # one display id per person who entered a display zone now
    impressions: list[Impression]


@dataclass(slots=True)
class _Dwell:
    entered: float
    last_seen: float  # last time the person was in view (not coasting unseen)
    last_sample: float | None = None
    in_spell: bool = False  # the face is turned to the display now
    spell_s: float = 0.0
    attention_s: float = 0.0
    looked: bool = False
    mood_sum: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros(len(MOODS), dtype=np.float32)
    )
    mood_samples: int = 0

    def sample(self, look: Look, timestamp: float, min_look_s: float) -> None:
        """Each look stands for the time half-way to its neighbours, so a face held over n
        looks at rate r counts n / r seconds."""
        gap = 0.0 if self.last_sample is None else timestamp - self.last_sample
        gap = min(max(gap, 0.0), MAX_SAMPLE_GAP_S)
        self.last_sample = timestamp
        if not look.frontal:
            if self.in_spell:
                self.spell_s += gap / 2
            self.close_spell(min_look_s)
            return
        self.spell_s += gap if self.in_spell else gap / 2
        self.in_spell = True
        if look.moods is not None:
            self.mood_sum += look.moods
            self.mood_samples += 1

    def close_spell(self, min_look_s: float) -> None:
        if self.in_spell and self.spell_s >= min_look_s - 1e-9:
            self.attention_s += self.spell_s
            self.looked = True
        self.in_spell, self.spell_s = False, 0.0

    def mood(self) -> str | None:
        if not self.looked or not self.mood_samples:
            return None
        return MOODS[int(np.argmax(self.mood_sum))]


class Audience:
    """Passers, impressions and (opt-in) attention per display zone, one update at a time."""

    def __init__(self, config: NodeConfig, looker: Looker | None = None) -> None:
        displays = [Zone(d.id, d.name, tuple(d.polygon)) for d in config.displays]
        analytics = config.analytics
        self.zones = ZoneOccupancy(displays, analytics.zone_enter_s, analytics.zone_exit_s)
        self.settings = config.audience
        self.looker = looker
        self.showing: dict[str, str | None] = {zone.id: None for zone in displays}
        self._dwells: dict[tuple[str, int], _Dwell] = {}

    def show(self, display_id: str, offer: str | None) -> None:
        """The offer now on screen at a display (None: nothing known)."""
        if display_id not in self.showing:
            raise KeyError(display_id)
        self.showing[display_id] = offer

    def update(
        self,
        tracks: Sequence[Track],
        ended: Iterable[int],
        timestamp: float,
        frame_index: int,
        frame: npt.NDArray[np.uint8] | None = None,
    ) -> AudienceUpdate:
        """`frame` is given on detector frames only, when the boxes are fresh."""
        passers: list[str] = []
        impressions: list[Impression] = []
        for event in self.zones.update(tracks, ended, timestamp):
            key = (event.zone_id, event.track_id)
            if event.kind == "enter":
                self._dwells[key] = _Dwell(entered=event.timestamp, last_seen=timestamp)
                passers.append(event.zone_id)
                continue
            dwell = self._dwells.pop(key, None)
            if dwell is not None:
                # A person who vanished is only ended after the tracker gives up on them: they
                # left when last seen, not then.
                left = min(event.timestamp, dwell.last_seen)
                impression = self._finish(key, dwell, left, frame_index)
                if impression is not None:
                    impressions.append(impression)
        in_view = {track.track_id for track in tracks}
        for (_, track_id), dwell in self._dwells.items():
            if track_id in in_view:
                dwell.last_seen = timestamp
        if frame is not None and self.looker is not None:
            self._look(frame, tracks, timestamp)
        return AudienceUpdate(passers=passers, impressions=impressions)

    def _look(self, frame: npt.NDArray[np.uint8], tracks: Sequence[Track], now: float) -> None:
        assert self.looker is not None
        boxes = {track.track_id: track.box for track in tracks}
        for (_, track_id), dwell in self._dwells.items():
            box = boxes.get(track_id)
            if box is not None:
                dwell.sample(self.looker.look(frame, box), now, self.settings.min_look_s)

    def _finish(
        self, key: tuple[str, int], dwell: _Dwell, left: float, frame_index: int
    ) -> Impression | None:
        duration = max(0.0, left - dwell.entered)
        if duration < self.settings.dwell_s:
            return None
        dwell.close_spell(self.settings.min_look_s)
        display_id, track_id = key
        return Impression(
            display_id=display_id,
            track_id=track_id,
            frame_index=frame_index,
            started=dwell.entered,
            duration_s=duration,
            looked=dwell.looked,
            attention_s=min(dwell.attention_s, duration),
            mood=dwell.mood(),
            offer=self.showing.get(display_id),
        )


def build_audience(config: NodeConfig) -> Audience:
    """The audience stage; face models are imported and loaded only when attention is on."""
    if not config.features.attention or not config.displays:
        return Audience(config)
    from .faces import build_face_reader

    reader = build_face_reader(
        config.audience, mood=config.features.mood, threads=config.detection.threads
    )
    return Audience(config, reader)
