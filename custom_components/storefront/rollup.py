"""The hourly rollups of zone occupancy and of dwell times (docs/data-model.md).

Occupancy: per zone and hour, the sum and the number of the minute readings written to
`occupancy`, so that a long range's averages read a sixtieth of the points and still come out
exactly as the mean of the readings. Dwell: per zone and hour, how many dwell times were
written to `dwell`, their sum (an exact mean) and how many fell into each of a fixed set of
bins (a distribution, and percentiles to within a bin), so a quarter's distributions read one
point per zone and hour instead of every visit.

Pure, like points.py: the export, the simulator's history and the benchmarks all write their
rollups through this code, next to the points they summarise.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

SLOT_S: Final = 3600  # hours of UTC: local hours wherever the offset is whole hours
SLOT_NS: Final = SLOT_S * 1_000_000_000

# Lower edges of the dwell bins in seconds; a bin reaches to the next edge, the last one is
# open. From 6 s to 12.5 min, where nearly all visits to a zone fall, a bin is at most a third
# of its lower edge wide, so a percentile read from the bins is close to the exact one; every
# edge of the analyst app's histogram (0, 10, 30, 60, 120, 300, 600) is among them, so its
# bars add up exactly. Fixed and documented (docs/data-model.md); a bin's field is
# `bin_<edge>`. Changing them would mix two sets of bins in one database.
DWELL_EDGES: Final = (
    0, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 90, 105, 120, 150, 180, 240,
    300, 360, 450, 600, 750, 900, 1200, 1800, 2700, 3600, 7200,
)  # fmt: skip


def dwell_bin(seconds: float) -> int:
    """The lower edge of the bin `seconds` falls into (below 0: the first bin)."""
    return DWELL_EDGES[max(0, bisect.bisect_right(DWELL_EDGES, seconds) - 1)]


class _Counter:
    """Two summaries of one slot (a late point, a restart) must not share a timestamp, or
    InfluxDB would keep only the second: a running number goes into the nanoseconds, as
    events carry their seq. It starts anywhere, so a restarted writer does not repeat it."""

    def __init__(self) -> None:
        self._value = random.randrange(1000)

    def stamp(self, first_ns: int) -> int:
        """A time within the slot, at its first point: the app tells from the time which
        slots a rollup covers (a slot begins at a round hour, this is inside it)."""
        self._value = (self._value + 1) % 1000
        return first_ns - first_ns % 1000 + self._value


@dataclass
class _Slot[K, V]:
    """One zone's values in one slot, by point: a point InfluxDB holds once (one time, and for
    dwell one persona) counts once here too."""

    index: int
    values: dict[K, V] = field(default_factory=dict)


@dataclass
class RollupPoint:
    """The summary of one zone's readings in one slot, ready to become a point."""

    node: str
    zone: str
    ns: int
    people_sum: int
    readings: int


@dataclass
class DwellPoint:
    """The summary of one zone's dwell times in one slot, ready to become a point."""

    node: str
    zone: str
    ns: int
    visits: int
    seconds_sum: float
    bins: dict[int, int]  # lower edge -> visits; bins without any are left out


class _Rollup[K, V, P]:
    """Collects the values of each (node, zone) until their slot is over; `_summary` turns a
    closed slot into its point."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], _Slot[K, V]] = {}
        self._counter = _Counter()

    def _add(self, node: str, zone: str, ns: int, key: K, value: V) -> Iterator[P]:
        """Count one value; yields the slot it closes when it is the first of another slot."""
        index = ns // SLOT_NS
        slot = self._open.get((node, zone))
        if slot is not None and slot.index != index:
            yield self._close((node, zone), slot)
            slot = None
        if slot is None:
            slot = self._open[(node, zone)] = _Slot(index)
        slot.values[key] = value

    def due(self, ns: int | None = None) -> Iterator[P]:
        """Closes every slot that ended at or before `ns` (all of them without it): a node that
        went quiet or offline, a zone nobody visits any more, or the writer stopping."""
        for key, slot in list(self._open.items()):
            if ns is None or (slot.index + 1) * SLOT_NS <= ns:
                yield self._close(key, slot)

    def _close(self, key: tuple[str, str], slot: _Slot[K, V]) -> P:
        del self._open[key]
        return self._summary(key[0], key[1], slot)

    def _summary(self, node: str, zone: str, slot: _Slot[K, V]) -> P:
        raise NotImplementedError


class OccupancyRollup(_Rollup[int, int, RollupPoint]):
    """Collects the readings (time -> people) of each (node, zone) until their slot is over."""

    def add(self, node: str, zone: str, ns: int, people: int) -> Iterator[RollupPoint]:
        """Count one reading; yields the slot it closes when it is the first of another slot."""
        return self._add(node, zone, ns, ns, people)

    def _summary(self, node: str, zone: str, slot: _Slot[int, int]) -> RollupPoint:
        return RollupPoint(
            node=node,
            zone=zone,
            ns=self._counter.stamp(min(slot.values)),
            people_sum=sum(slot.values.values()),
            readings=len(slot.values),
        )


class DwellRollup(_Rollup[tuple[int, str], float, DwellPoint]):
    """Collects the dwell times ((time, persona) -> seconds) of each (node, zone) until their
    slot is over."""

    def add(
        self, node: str, zone: str, ns: int, persona: str, seconds: float
    ) -> Iterator[DwellPoint]:
        """Count one dwell time; yields the slot it closes when it is the first of another
        slot (a visit's time is when it ended: a late one opens its own slot again)."""
        return self._add(node, zone, ns, (ns, persona), seconds)

    def _summary(self, node: str, zone: str, slot: _Slot[tuple[int, str], float]) -> DwellPoint:
        bins: dict[int, int] = {}
        for seconds in slot.values.values():
            edge = dwell_bin(seconds)
            bins[edge] = bins.get(edge, 0) + 1
        return DwellPoint(
            node=node,
            zone=zone,
            ns=self._counter.stamp(min(ns for ns, _persona in slot.values)),
            visits=len(slot.values),
            seconds_sum=float(sum(slot.values.values())),
            bins=dict(sorted(bins.items())),
        )
