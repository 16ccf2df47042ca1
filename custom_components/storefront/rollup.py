"""The hourly rollup of zone occupancy: per zone and hour, the sum and the number of the
minute readings written to `occupancy`, so that a long range's averages read a sixtieth of
the points and still come out exactly as the mean of the readings (docs/data-model.md).

Pure, like points.py: the export, the simulator's history and the benchmarks all write their
rollup through this code, next to the readings it summarises.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

SLOT_S: Final = 3600  # hours of UTC: local hours wherever the offset is whole hours
SLOT_NS: Final = SLOT_S * 1_000_000_000


@dataclass
class _Slot:
    """One zone's readings in one slot, by time: a reading written twice at one time is one
    point in InfluxDB, so it counts once here too."""

    index: int
    readings: dict[int, int] = field(default_factory=dict)  # ns -> people


@dataclass
class RollupPoint:
    """The summary of one zone's readings in one slot, ready to become a point."""

    node: str
    zone: str
    ns: int
    people_sum: int
    readings: int


class OccupancyRollup:
    """Collects the readings of each (node, zone) until their slot is over."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], _Slot] = {}
        # Two summaries of one slot (a late reading, a restart) must not share a timestamp, or
        # InfluxDB would keep only the second: a running number goes into the nanoseconds, as
        # events carry their seq. It starts anywhere, so a restarted writer does not repeat it.
        self._counter = random.randrange(1000)

    def add(self, node: str, zone: str, ns: int, people: int) -> Iterator[RollupPoint]:
        """Count one reading; yields the slot it closes when it is the first of another slot."""
        index = ns // SLOT_NS
        key = (node, zone)
        slot = self._open.get(key)
        if slot is not None and slot.index != index:
            yield self._close(key, slot)
            slot = None
        if slot is None:
            slot = self._open[key] = _Slot(index)
        slot.readings[ns] = people

    def due(self, ns: int | None = None) -> Iterator[RollupPoint]:
        """Closes every slot that ended at or before `ns` (all of them without it): a node that
        went quiet or offline, or the writer stopping."""
        for key, slot in list(self._open.items()):
            if ns is None or (slot.index + 1) * SLOT_NS <= ns:
                yield self._close(key, slot)

    def _close(self, key: tuple[str, str], slot: _Slot) -> RollupPoint:
        del self._open[key]
        self._counter = (self._counter + 1) % 1000
        first = min(slot.readings)
        return RollupPoint(
            node=key[0],
            zone=key[1],
            # Within the slot, at its first reading: the app tells from the time which slots
            # a rollup covers (a slot begins at a round hour, this is inside it).
            ns=first - first % 1000 + self._counter,
            people_sum=sum(slot.readings.values()),
            readings=len(slot.readings),
        )
