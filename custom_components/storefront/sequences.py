"""Which events each node has already delivered, and which it still owes.

A node sends every event at least once (QoS 1, resent after reconnects from its on-disk queue),
but Home Assistant's MQTT client has a clean session: what the broker accepted while Home
Assistant was away or re-subscribing never reaches it. So this book keeps, per node and stream,
the seq up to which every event was fired (`fired_upto`) plus the few fired beyond it; anything
between is a gap the hub asks the node to replay. It is kept in .storage across restarts.

Streams: a node announces its stream in its retained state before it sends an event of it (a
node with fresh storage starts a new stream at seq 1). An event of a stream the node did not
announce is refused; for a node that never announced one, a new stream is taken only from its
first event (seq 1). Earlier streams stay de-duplicated, so a stray event never refires history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN

# A seq further than this beyond the newest the node announced is refused: a node publishes its
# state at least every minute, so no honest event runs that far ahead.
MAX_AHEAD: Final = 10_000
# Seqs fired beyond a gap that never fills (a node without a replay log): the oldest gap is
# given up once this many wait above it.
MAX_WAITING: Final = 1024
KEPT_STREAMS: Final = 3  # earlier streams per node still de-duplicated
SAVE_DELAY_S: Final = 2.0
STORAGE_VERSION: Final = 1


class Verdict(Enum):
    """What to do with one event."""

    FIRE = "fire"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


class _StoredStream(TypedDict):
    stream: str
    fired_upto: int
    ahead: list[int]


class _Stored(TypedDict, total=False):
    stream: str
    fired_upto: int
    ahead: list[int]
    announced: bool
    known_high: int
    earlier: list[_StoredStream]


@dataclass(slots=True)
class _StreamBook:
    stream: str
    fired_upto: int = 0
    ahead: set[int] = field(default_factory=set)

    def seen(self, seq: int) -> bool:
        return seq <= self.fired_upto or seq in self.ahead

    def fire(self, seq: int) -> None:
        self.ahead.add(seq)
        while self.fired_upto + 1 in self.ahead:
            self.fired_upto += 1
            self.ahead.discard(self.fired_upto)
        if len(self.ahead) > MAX_WAITING:
            self.give_up_to(min(self.ahead) - 1)

    def give_up_to(self, seq: int) -> int:
        """Stop waiting for everything up to `seq` (gone for good); returns how many were lost."""
        if seq <= self.fired_upto:
            return 0
        lost = seq - self.fired_upto - sum(1 for s in self.ahead if s <= seq)
        self.ahead = {s for s in self.ahead if s > seq}
        self.fired_upto = seq
        while self.fired_upto + 1 in self.ahead:
            self.fired_upto += 1
            self.ahead.discard(self.fired_upto)
        return lost

    @property
    def high(self) -> int:
        return max(self.ahead, default=self.fired_upto)

    def stored(self) -> _StoredStream:
        return {"stream": self.stream, "fired_upto": self.fired_upto, "ahead": sorted(self.ahead)}


@dataclass(slots=True)
class _NodeBook:
    current: _StreamBook
    announced: bool = False  # the node's state named its stream
    known_high: int = 0  # the newest seq the node said it has (state's last_seq)
    earlier: list[_StreamBook] = field(default_factory=list)

    def switch_to(self, stream: str) -> None:
        self.earlier = [self.current, *self.earlier][:KEPT_STREAMS]
        self.current = _StreamBook(stream)
        self.known_high = 0

    def book_of(self, stream: str) -> _StreamBook | None:
        if stream == self.current.stream:
            return self.current
        return next((b for b in self.earlier if b.stream == stream), None)

    def missing_from(self) -> int | None:
        """The first seq of the current stream not yet fired, if the node has sent more."""
        book = self.current
        if max(self.known_high, book.high) > book.fired_upto:
            return book.fired_upto + 1
        return None


class SequenceBook:
    """Per node: fire each (stream, seq) once, notice gaps, refuse what cannot be honest."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, _Stored]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.sequences"
        )
        self._nodes: dict[str, _NodeBook] = {}
        self.duplicates = 0
        self.refused = 0
        self.lost = 0

    async def async_load(self) -> None:
        stored = await self._store.async_load() or {}
        for node_id, data in stored.items():
            self._nodes[node_id] = _from_storage(data)

    @callback
    def accept(self, node_id: str, stream: str, seq: int) -> Verdict:
        """FIRE the first time this event is seen; DUPLICATE for a replay; REFUSED for a seq far
        beyond what the node announced or a stream it never announced."""
        node = self._nodes.get(node_id)
        if node is None:
            if seq > MAX_AHEAD:
                self.refused += 1
                return Verdict.REFUSED
            # Known only from this event (its state has not arrived): start from here.
            node = self._nodes[node_id] = _NodeBook(_StreamBook(stream, seq - 1))
        book = node.book_of(stream)
        if book is None:
            if node.announced or seq != 1:
                self.refused += 1
                return Verdict.REFUSED
            node.switch_to(stream)
            book = node.current
        if book.seen(seq):
            self.duplicates += 1
            return Verdict.DUPLICATE
        if book is node.current and seq > max(node.known_high, book.high) + MAX_AHEAD:
            self.refused += 1
            return Verdict.REFUSED
        book.fire(seq)
        self._save()
        return Verdict.FIRE

    @callback
    def note_state(
        self, node_id: str, stream: str | None, last_seq: int, replay_from: int | None
    ) -> None:
        """The node's retained state: its stream, newest seq and oldest seq it can replay.

        A node seen for the first time starts from its `last_seq`: what happened before Home
        Assistant knew it is in the state's counters, not owed as events. A state that names
        no stream says nothing about which events its `last_seq` counts, so it is ignored
        (such a node's events are de-duplicated, never asked for again)."""
        if stream is None:
            return
        node = self._nodes.get(node_id)
        if node is None:
            node = self._nodes[node_id] = _NodeBook(_StreamBook(stream, fired_upto=last_seq))
        elif node.current.stream and stream != node.current.stream:
            node.switch_to(stream)
        node.announced = True
        node.current.stream = stream
        node.known_high = max(node.known_high, last_seq)
        if replay_from is not None:
            self.lost += node.current.give_up_to(replay_from - 1)
        self._save()

    @callback
    def missing(self, node_id: str) -> tuple[str, int] | None:
        """(stream, first seq) the node should replay, or None when nothing is owed."""
        node = self._nodes.get(node_id)
        if node is None or not node.current.stream:
            return None
        start = node.missing_from()
        return None if start is None else (node.current.stream, start)

    def _save(self) -> None:
        self._store.async_delay_save(self._data, SAVE_DELAY_S)

    def _data(self) -> dict[str, _Stored]:
        return {
            node_id: {
                **node.current.stored(),
                "announced": node.announced,
                "known_high": node.known_high,
                "earlier": [b.stored() for b in node.earlier],
            }
            for node_id, node in self._nodes.items()
        }

    async def async_flush(self) -> None:
        """Write now (on unload), not after the save delay."""
        await self._store.async_save(self._data())

    def as_dict(self) -> dict[str, Any]:
        return {
            node_id: {
                "stream": node.current.stream,
                "high": node.current.high,
                "fired_upto": node.current.fired_upto,
                "waiting_above_gap": len(node.current.ahead),
            }
            for node_id, node in self._nodes.items()
        }


def _from_storage(data: Mapping[str, Any]) -> _NodeBook:
    if "fired_upto" not in data:  # the first layout: newest seq and the recent ones
        return _NodeBook(_StreamBook(data.get("stream", ""), data.get("high", 0)))
    current = _StreamBook(data["stream"], data["fired_upto"], set(data.get("ahead", [])))
    earlier = [_StreamBook(b["stream"], b["fired_upto"], set(b["ahead"])) for b in data["earlier"]]
    return _NodeBook(
        current, data.get("announced", False), data.get("known_high", 0), earlier[:KEPT_STREAMS]
    )
