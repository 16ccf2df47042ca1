"""Which events each node has already delivered, so replays are never counted twice.

A node sends every event at least once (QoS 1, resent after reconnects from its on-disk queue).
Each event carries the node's stream id and a sequence number; this book accepts each
(node, stream, seq) once, also across Home Assistant restarts (kept in .storage). A new stream
(a node with fresh storage) starts a new sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN

# Events may arrive out of order within this many sequence numbers (several topics, resends).
WINDOW: Final = 1024
SAVE_DELAY_S: Final = 2.0
STORAGE_VERSION: Final = 1


class _Stored(TypedDict):
    stream: str
    high: int
    recent: list[int]


@dataclass(slots=True)
class _NodeBook:
    stream: str
    high: int = 0
    recent: set[int] = field(default_factory=set)

    def accept(self, seq: int) -> bool:
        if seq <= self.high - WINDOW or seq in self.recent:
            return False
        self.recent.add(seq)
        if seq > self.high:
            self.high = seq
            floor = self.high - WINDOW
            self.recent = {s for s in self.recent if s > floor}
        return True


class SequenceBook:
    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, _Stored]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.sequences"
        )
        self._nodes: dict[str, _NodeBook] = {}
        self.duplicates = 0

    async def async_load(self) -> None:
        stored = await self._store.async_load() or {}
        for node_id, book in stored.items():
            self._nodes[node_id] = _NodeBook(book["stream"], book["high"], set(book["recent"]))

    @callback
    def accept(self, node_id: str, stream: str, seq: int) -> bool:
        """True the first time this event is seen; False for a replay."""
        book = self._nodes.get(node_id)
        if book is None or book.stream != stream:
            book = self._nodes[node_id] = _NodeBook(stream)
        fresh = book.accept(seq)
        if fresh:
            self._store.async_delay_save(self._data, SAVE_DELAY_S)
        else:
            self.duplicates += 1
        return fresh

    def _data(self) -> dict[str, _Stored]:
        return {
            node_id: {"stream": b.stream, "high": b.high, "recent": sorted(b.recent)}
            for node_id, b in self._nodes.items()
        }

    async def async_flush(self) -> None:
        """Write now (on unload), not after the save delay."""
        await self._store.async_save(self._data())

    def as_dict(self) -> dict[str, Any]:
        return {node_id: {"stream": b.stream, "high": b.high} for node_id, b in self._nodes.items()}
