"""The durable event queue: events wait on disk until the broker has acknowledged them.

SQLite in WAL mode, one row per event, committed before the event is handed to MQTT, deleted
only on the broker's PUBACK. A node that loses power, or a 5G link that drops for hours, loses
nothing within the configured bounds; when a bound is hit the oldest events go first and are
counted, so the loss is visible in health.

After the PUBACK an event moves to the replay log (`delivered`), kept within its own count and
age bounds, so a receiver that missed events the broker did accept (Home Assistant's MQTT client
has a clean session) can ask for them again by sequence number.

The same database keeps the node's event stream id and next sequence number, so sequence
numbers keep increasing across restarts; a fresh database starts a new stream.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import messages

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS delivered (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL
);
"""
# Pruning the replay log costs a query; doing it every this many acknowledgements is plenty.
PRUNE_EVERY_ACKS = 200


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    seq: int
    type: str  # crossing, visit, shelf, impression
    payload: bytes  # the JSON exactly as it will be published
    created: float


@dataclass(frozen=True, slots=True)
class QueueStats:
    depth: int
    oldest_age_s: float
    dropped: int
    bytes: int


class EventQueue:
    """Thread-safe: the pipeline appends, the MQTT thread reads and acknowledges."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_events: int = 500_000,
        max_bytes: int = 256 * 1024 * 1024,
        max_age_s: float = 7 * 24 * 3600,
        replay_events: int = 50_000,
        replay_age_s: float = 26 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.replay_events = replay_events
        self.replay_age_s = replay_age_s
        self._acks_since_prune = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: an event reported as queued survives a power cut, not only a crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self.stream = self._meta("stream") or self._init_meta("stream", secrets.token_hex(8))
        self._dropped = int(self._meta("dropped") or 0)
        last = self._db.execute(
            "SELECT max(seq) FROM (SELECT seq FROM events UNION ALL SELECT seq FROM delivered)"
        ).fetchone()[0]
        self._next_seq = max(int(self._meta("next_seq") or 1), (last or 0) + 1)
        self._bytes = int(
            self._db.execute("SELECT coalesce(sum(length(payload)), 0) FROM events").fetchone()[0]
        )

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _init_meta(self, key: str, value: str) -> str:
        self._set_meta(key, value)
        return value

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def append(
        self,
        event_type: str,
        fields: dict[str, Any],
        *,
        counters: Callable[[int], dict[str, Any]] | None = None,
    ) -> QueuedEvent:
        """Give the event its sequence number and timestamp, store it, and return it.

        `counters(seq)` returns the counters *including* this event; they are stored in the same
        transaction, so after any crash the stored counters and the queued events agree.
        """
        with self._lock:
            seq = self._next_seq
            now = self._clock()
            payload = messages.encode(messages.event(self.stream, seq, now, event_type, fields))
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO events (seq, type, payload, created) VALUES (?, ?, ?, ?)",
                    (seq, event_type, payload, now),
                )
                self._set_meta("next_seq", str(seq + 1))
                if counters is not None:
                    self._set_meta("counters", json.dumps(counters(seq), allow_nan=False))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._next_seq = seq + 1
            self._bytes += len(payload)
            self._enforce_bounds(now)
            return QueuedEvent(seq, event_type, payload, now)

    def save_counters(self, counters: dict[str, Any]) -> None:
        """Store counters that changed without an event (midnight, a reset command)."""
        with self._lock:
            self._set_meta("counters", json.dumps(counters, allow_nan=False))

    def load_counters(self) -> dict[str, Any] | None:
        with self._lock:
            text = self._meta("counters")
        return None if text is None else dict(json.loads(text))

    def _enforce_bounds(self, now: float) -> None:
        """Drop the oldest events beyond the count, size and age bounds (lock held)."""
        drop_before_seq = 0
        cutoff = now - self.max_age_s
        row = self._db.execute(
            "SELECT max(seq) FROM events WHERE created < ?", (cutoff,)
        ).fetchone()
        if row[0] is not None:
            drop_before_seq = int(row[0]) + 1
        depth = self._db.execute("SELECT count(*) FROM events").fetchone()[0]
        if depth > self.max_events:
            row = self._db.execute(
                "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET ?", (depth - self.max_events,)
            ).fetchone()
            drop_before_seq = max(drop_before_seq, int(row[0]))
        if self._bytes > self.max_bytes:
            excess = self._bytes - self.max_bytes
            running = 0
            for seq, size in self._db.execute(
                "SELECT seq, length(payload) FROM events ORDER BY seq"
            ):
                running += size
                if running >= excess:
                    drop_before_seq = max(drop_before_seq, int(seq) + 1)
                    break
        if drop_before_seq:
            self._drop_before(drop_before_seq)

    def _drop_before(self, seq: int) -> None:
        count, size = self._db.execute(
            "SELECT count(*), coalesce(sum(length(payload)), 0) FROM events WHERE seq < ?", (seq,)
        ).fetchone()
        if not count:
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("DELETE FROM events WHERE seq < ?", (seq,))
        self._dropped += int(count)
        self._set_meta("dropped", str(self._dropped))
        self._db.execute("COMMIT")
        self._bytes -= int(size)

    def pending(self, after_seq: int = 0, limit: int = 100) -> list[QueuedEvent]:
        """Unacknowledged events with seq > after_seq, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, type, payload, created FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [QueuedEvent(int(s), str(t), bytes(p), float(c)) for s, t, p, c in rows]

    def ack(self, seq: int) -> None:
        """The broker has the event: move it from the queue to the replay log."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO delivered SELECT * FROM events WHERE seq = ?", (seq,)
                )
                row = self._db.execute(
                    "DELETE FROM events WHERE seq = ? RETURNING length(payload)", (seq,)
                ).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if row is not None:
                self._bytes -= int(row[0])
                self._acks_since_prune += 1
            if self._acks_since_prune >= PRUNE_EVERY_ACKS:
                self._prune_replay_log()

    def _prune_replay_log(self) -> None:
        """Keep the newest `replay_events` delivered events younger than `replay_age_s`."""
        self._acks_since_prune = 0
        cutoff = self._clock() - self.replay_age_s
        self._db.execute(
            "DELETE FROM delivered WHERE created < ? OR seq <= "
            "(SELECT seq FROM delivered ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (cutoff, self.replay_events),
        )

    def delivered(self, from_seq: int, limit: int = 100) -> list[QueuedEvent]:
        """Events the broker acknowledged with seq >= from_seq, oldest first (for a replay)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, type, payload, created FROM delivered WHERE seq >= ? "
                "ORDER BY seq LIMIT ?",
                (from_seq, limit),
            ).fetchall()
        return [QueuedEvent(int(s), str(t), bytes(p), float(c)) for s, t, p, c in rows]

    def replay_from(self) -> int:
        """The oldest seq this node can still send: kept in the replay log or still queued."""
        with self._lock:
            row = self._db.execute(
                "SELECT min(seq) FROM (SELECT min(seq) AS seq FROM delivered "
                "UNION ALL SELECT min(seq) FROM events)"
            ).fetchone()
            return int(row[0]) if row[0] is not None else self._next_seq

    def stats(self) -> QueueStats:
        with self._lock:
            depth, oldest = self._db.execute("SELECT count(*), min(created) FROM events").fetchone()
            age = max(0.0, self._clock() - oldest) if oldest is not None else 0.0
            return QueueStats(
                depth=int(depth),
                oldest_age_s=round(age, 3),
                dropped=self._dropped,
                bytes=self._bytes,
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
