"""Counters since local midnight: footfall per line, visits and dwell per zone, personas,
shopping units and groups, staff counted apart, the display audience and shelf moves.

They are the authoritative values the node publishes as retained state. They are stored in the
outbox database in the same transaction as the event that changed them (see `Outbox.record`), so
a crash can never leave an event queued without its count, or a count without its event.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

# Enough dwell samples for stable quantiles in a busy shop's day, small enough to store with
# every event (a few hundred kilobytes at most).
MAX_DWELL_SAMPLES = 5000


def local_day(timestamp: float, timezone: str) -> str:
    return dt.datetime.fromtimestamp(timestamp, ZoneInfo(timezone)).date().isoformat()


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


@dataclass
class DailyCounters:
    day: str
    lines: dict[str, dict[str, int]] = field(default_factory=dict)
    visits: int = 0
    dwell: dict[str, list[float]] = field(default_factory=dict)
    last_seq: int = 0
    personas: dict[str, int] = field(default_factory=dict)  # shopper visits per persona
    units: int = 0  # shopping units: a group counts once
    groups: int = 0  # units of two or more people
    staff_visits: int = 0  # staff, counted apart from every shopper figure
    displays: dict[str, DisplayTally] = field(default_factory=dict)
    shelves: dict[str, dict[str, int]] = field(default_factory=dict)  # taken/returned per shelf
    # Quantiles are recomputed only after a visit: state goes out far more often than visits end.
    _dwell_stats: dict[str, dict[str, float | int]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def fresh(
        cls,
        day: str,
        line_ids: list[str],
        zone_ids: list[str],
        *,
        personas: Sequence[str] = (),
        displays: Sequence[str] = (),
        shelves: Sequence[str] = (),
    ) -> DailyCounters:
        return cls(
            day=day,
            lines={line: {"in": 0, "out": 0} for line in line_ids},
            dwell={zone: [] for zone in zone_ids},
            personas=dict.fromkeys(personas, 0),
            displays={d: DisplayTally() for d in displays},
            shelves={s: {"taken": 0, "returned": 0} for s in shelves},
        )

    def ensure(self, line_ids: list[str], zone_ids: list[str]) -> None:
        """Start counting lines and zones added by a new configuration."""
        for line in line_ids:
            self.lines.setdefault(line, {"in": 0, "out": 0})
        for zone in zone_ids:
            self.dwell.setdefault(zone, [])
        self._dwell_stats = None

    def add_crossing(self, line_id: str, direction: str) -> None:
        counts = self.lines.setdefault(line_id, {"in": 0, "out": 0})
        counts[direction] += 1

    def add_shelf_move(self, shelf_id: str, change: str, count: int = 1) -> None:
        """Items taken or returned (restocking counts as neither: it is staff, not shoppers)."""
        if change in ("taken", "returned"):
            moves = self.shelves.setdefault(shelf_id, {"taken": 0, "returned": 0})
            moves[change] += max(1, count)

    def add_visit(self, zone_dwell_s: dict[str, float], *, visitor: bool = True) -> None:
        """A shopper's visit: dwell always, the visitors count only for a visitor."""
        if visitor:
            self.visits += 1
        for zone, seconds in zone_dwell_s.items():
            samples = self.dwell.setdefault(zone, [])
            if len(samples) < MAX_DWELL_SAMPLES:
                samples.append(round(seconds, 1))
        self._dwell_stats = None

    def add_persona(self, persona: str, *, new_unit: bool, group_size: int) -> None:
        self.personas[persona] = self.personas.get(persona, 0) + 1
        if new_unit:
            self.units += 1
            self.groups += int(group_size > 1)

    def shelf_moves(self, shelf: str) -> dict[str, int]:
        return dict(self.shelves.get(shelf, {"taken": 0, "returned": 0}))

    def dwell_stats(self) -> dict[str, dict[str, float | int]]:
        if self._dwell_stats is None:
            self._dwell_stats = self._compute_dwell_stats()
        return {zone: dict(stats) for zone, stats in self._dwell_stats.items()}

    def _compute_dwell_stats(self) -> dict[str, dict[str, float | int]]:
        stats: dict[str, dict[str, float | int]] = {}
        for zone, samples in self.dwell.items():
            if not samples:
                stats[zone] = {"count": 0, "mean_s": 0.0}
                continue
            ordered = sorted(samples)
            stats[zone] = {
                "count": len(samples),
                "mean_s": round(statistics.fmean(samples), 1),
                "p50_s": round(_quantile(ordered, 0.5), 1),
                "p90_s": round(_quantile(ordered, 0.9), 1),
            }
        return stats

    def add_passer(self, display_id: str) -> None:
        self.displays.setdefault(display_id, DisplayTally()).passers += 1

    def add_impression(self, display_id: str, impression: ImpressionFigures) -> None:
        self.displays.setdefault(display_id, DisplayTally()).add(impression)

    def to_contract(self, mood_min: int = 5) -> dict[str, Any]:
        """The `counters` object of the contract's state message."""
        out: dict[str, Any] = {
            "lines": {line: dict(counts) for line, counts in self.lines.items()},  # a copy
            "visits": self.visits,
            "dwell": self.dwell_stats(),
        }
        out |= {"personas": dict(self.personas), "units": self.units, "groups": self.groups}
        out["staff_visits"] = self.staff_visits
        if self.displays:
            out["impressions"] = {
                display: tally.to_contract(mood_min) for display, tally in self.displays.items()
            }
        return out

    def to_storage(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "lines": self.lines,
            "visits": self.visits,
            "dwell": self.dwell,
            "last_seq": self.last_seq,
            "personas": self.personas,
            "units": self.units,
            "groups": self.groups,
            "staff_visits": self.staff_visits,
            "displays": {k: v.to_storage() for k, v in self.displays.items()},
            "shelves": self.shelves,
        }

    @classmethod
    def from_storage(cls, data: dict[str, Any]) -> DailyCounters:
        return cls(
            day=str(data["day"]),
            lines={k: {"in": int(v["in"]), "out": int(v["out"])} for k, v in data["lines"].items()},
            visits=int(data["visits"]),
            dwell={k: [float(x) for x in v] for k, v in data["dwell"].items()},
            last_seq=int(data.get("last_seq", 0)),
            personas={str(k): int(v) for k, v in data.get("personas", {}).items()},
            units=int(data.get("units", 0)),
            groups=int(data.get("groups", 0)),
            staff_visits=int(data.get("staff_visits", 0)),
            displays={k: DisplayTally.from_storage(v) for k, v in data.get("displays", {}).items()},
            shelves=_counts(data.get("shelves", {})),
        )

    def roll_over(self, day: str, line_ids: list[str], zone_ids: list[str]) -> bool:
        """Start a new day's counters when local midnight has passed; True when it did."""
        if day == self.day:
            return False
        fresh = DailyCounters.fresh(
            day,
            line_ids,
            zone_ids,
            personas=list(self.personas),
            displays=list(self.displays),
            shelves=list(self.shelves),
        )
        self.day, self.lines, self.visits, self.dwell = fresh.day, fresh.lines, 0, fresh.dwell
        self.personas, self.units, self.groups, self.staff_visits = fresh.personas, 0, 0, 0
        self.displays, self.shelves, self._dwell_stats = fresh.displays, fresh.shelves, None
        return True


def _counts(data: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {k: {name: int(count) for name, count in v.items()} for k, v in data.items()}


MOOD_KEYS = ("positive", "neutral", "negative")
MAX_OFFERS = 16  # offers tracked per display and day (the contract's bound)


@dataclass(frozen=True, slots=True)
class ImpressionFigures:
    """What one impression adds to the day's figures."""

    looked: bool
    attention_s: float
    dwell_s: float
    mood: str | None
    offer: str | None


@dataclass
class OfferTally:
    """An offer's (or a whole display's) impressions since midnight; mood only as counts."""

    impressions: int = 0
    watchers: int = 0
    dwell_s: float = 0.0
    attention_s: float = 0.0
    moods: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MOOD_KEYS, 0))

    def add(self, impression: ImpressionFigures) -> None:
        self.impressions += 1
        self.watchers += int(impression.looked)
        self.dwell_s += impression.dwell_s
        self.attention_s += impression.attention_s
        if impression.mood in self.moods:
            self.moods[impression.mood] += 1

    def to_contract(self, mood_min: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "impressions": self.impressions,
            "watchers": self.watchers,
            "dwell_s": round(self.dwell_s, 1),
            "attention_s": round(self.attention_s, 1),
        }
        read = sum(self.moods.values())
        # Below the minimum a share could single out the few people it was read from.
        if read >= mood_min:
            out["mood"] = {k: round(v / read, 3) for k, v in self.moods.items()} | {"n": read}
        return out

    def to_storage(self) -> dict[str, Any]:
        return {
            "impressions": self.impressions,
            "watchers": self.watchers,
            "dwell_s": self.dwell_s,
            "attention_s": self.attention_s,
            "moods": self.moods,
        }

    @classmethod
    def from_storage(cls, data: dict[str, Any]) -> OfferTally:
        return cls(
            impressions=int(data["impressions"]),
            watchers=int(data["watchers"]),
            dwell_s=float(data["dwell_s"]),
            attention_s=float(data["attention_s"]),
            moods={k: int(data["moods"].get(k, 0)) for k in MOOD_KEYS},
        )


@dataclass
class DisplayTally(OfferTally):
    """A display's figures since midnight: passers, and its impressions overall and per offer."""

    passers: int = 0
    offers: dict[str, OfferTally] = field(default_factory=dict)

    def add(self, impression: ImpressionFigures) -> None:
        super().add(impression)
        offer = impression.offer
        if offer is not None and (offer in self.offers or len(self.offers) < MAX_OFFERS):
            self.offers.setdefault(offer, OfferTally()).add(impression)

    def to_contract(self, mood_min: int) -> dict[str, Any]:
        out = {"passers": self.passers, **super().to_contract(mood_min)}
        if self.offers:
            out["offers"] = {k: v.to_contract(mood_min) for k, v in self.offers.items()}
        return out

    def to_storage(self) -> dict[str, Any]:
        stored = super().to_storage()
        stored["passers"] = self.passers
        stored["offers"] = {k: v.to_storage() for k, v in self.offers.items()}
        return stored

    @classmethod
    def from_storage(cls, data: dict[str, Any]) -> DisplayTally:
        base = OfferTally.from_storage(data)
        return cls(
            impressions=base.impressions,
            watchers=base.watchers,
            dwell_s=base.dwell_s,
            attention_s=base.attention_s,
            moods=base.moods,
            passers=int(data["passers"]),
            offers={k: OfferTally.from_storage(v) for k, v in data.get("offers", {}).items()},
        )
