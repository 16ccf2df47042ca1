"""The export's persistent buffer: points waiting for InfluxDB, on disk, oldest first, bounded.

SQLite from the standard library: a file survives a Home Assistant restart while the database is
away, keeps insertion order by its rowid, and bounds itself by deleting the oldest rows. Every
method blocks: call them from an executor.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class Spool:
    def __init__(self, path: Path, max_points: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_points = max_points
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT)"
        )

    def append(self, lines: list[str]) -> int:
        """Store lines after everything already here; returns how many of the oldest were
        dropped to stay within `max_points`."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO spool (line) VALUES (?)", ((x,) for x in lines))
            (count,) = self._db.execute("SELECT count(*) FROM spool").fetchone()
            excess = count - self.max_points
            if excess > 0:
                self._db.execute(
                    "DELETE FROM spool WHERE id IN (SELECT id FROM spool ORDER BY id LIMIT ?)",
                    (excess,),
                )
            self._db.execute("COMMIT")
            return int(max(excess, 0))

    def peek(self, limit: int) -> list[tuple[int, str]]:
        """The oldest `limit` lines with their ids, without removing them."""
        with self._lock:
            return list(
                self._db.execute("SELECT id, line FROM spool ORDER BY id LIMIT ?", (limit,))
            )

    def delete_upto(self, last_id: int) -> None:
        """Forget what was written: every line up to and including `last_id`."""
        with self._lock:
            self._db.execute("DELETE FROM spool WHERE id <= ?", (last_id,))

    def count(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM spool").fetchone()
            return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()
