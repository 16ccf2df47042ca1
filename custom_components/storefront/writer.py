"""The export's writer: batches points, writes them in order, and loses nothing while InfluxDB is
away — failed batches and everything after them go to the on-disk spool, which is written back
first, oldest first, when the database answers again.

No Home Assistant imports: the integration runs it on its shared HTTP session, the benchmarks
run exactly this code on their own session.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .influx import InfluxError, InfluxTarget, write_lines
from .spool import Spool

_LOGGER = logging.getLogger(__package__)


@dataclass(slots=True)
class WriterStats:
    written: int = 0  # points InfluxDB accepted
    refused: int = 0  # points InfluxDB refused as malformed (never retried)
    dropped: int = 0  # oldest spooled points dropped to stay within the bound
    spooled: int = 0  # points waiting on disk
    batches: int = 0
    failures: int = 0  # failed write attempts (the data was kept)
    last_error: str | None = None
    last_error_reason: str | None = None
    last_success: float | None = None  # time.time() of the last accepted write
    unreachable_since: float | None = None  # time.time() of the first failure in a row


class InfluxWriter:
    """Owns one asyncio task that writes; `add()` never blocks and never waits for the network."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        target: InfluxTarget,
        spool: Spool,
        *,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        memory_limit: int = 20_000,
        max_backoff: float = 60.0,
        on_unreachable: Callable[[str], None] | None = None,
        on_back: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.target = target
        self.spool = spool
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.memory_limit = memory_limit
        self.max_backoff = max_backoff
        self.on_unreachable = on_unreachable
        self.on_back = on_back
        self.stats = WriterStats()
        self._memory: deque[str] = deque()
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()  # one drain at a time, or a batch could go out twice
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._retry_at = 0.0  # monotonic time before which no write is tried
        self._backoff = 0.0

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def pending(self) -> int:
        """Points not yet written: in memory and on disk."""
        return len(self._memory) + self.stats.spooled

    async def _blocking(self, func: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def start(self) -> None:
        self.stats.spooled = await self._blocking(self.spool.count)
        self._task = asyncio.create_task(self._run(), name="storefront influx writer")
        if self.stats.spooled:
            self._wake.set()

    def add(self, lines: list[str]) -> None:
        self._memory.extend(lines)
        if len(self._memory) >= self.batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything pending now (if the database answers); for tests and shutdown."""
        self._retry_at = 0.0
        await self._drain()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Write what is pending if the database answers within `grace_s`; keep the rest on disk."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        try:
            async with asyncio.timeout(grace_s):
                await self._drain()
        except TimeoutError:
            pass
        await self._spill()

    async def _run(self) -> None:
        while not self._stopping:
            delay = max(self.flush_interval, self._retry_at - time.monotonic())
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            if self.stopping:
                return
            if time.monotonic() < self._retry_at:
                if len(self._memory) >= self.memory_limit:
                    await self._spill()  # the database is away: keep memory small
                continue
            try:
                await self._drain()
            except Exception:  # a bug must not end the export; the data stays queued
                _LOGGER.exception("Unexpected error in the InfluxDB export")
                self._schedule_retry()

    async def _spill(self) -> None:
        """Move what is in memory to the end of the spool, in order."""
        async with self._writing:
            if not self._memory:
                return
            lines = list(self._memory)
            self._memory.clear()
            await self._append_to_spool(lines)

    async def _append_to_spool(self, lines: list[str]) -> None:
        dropped = await self._blocking(self.spool.append, lines)
        self.stats.spooled += len(lines) - dropped
        if dropped:
            self.stats.dropped += dropped
            _LOGGER.warning(
                "InfluxDB export buffer is full (%d points): dropped the %d oldest",
                self.spool.max_points,
                dropped,
            )

    async def _drain(self) -> None:
        """Write the spool (oldest first), then memory, until empty or a write fails."""
        async with self._writing:
            await self._drain_locked()

    async def _drain_locked(self) -> None:
        while True:
            if self.stats.spooled:
                rows = await self._blocking(self.spool.peek, self.batch_size)
                if not rows:
                    self.stats.spooled = 0
                    continue
                if not await self._send([line for _, line in rows]):
                    return
                await self._blocking(self.spool.delete_upto, rows[-1][0])
                self.stats.spooled = max(self.stats.spooled - len(rows), 0)
                continue
            if not self._memory:
                return
            count = min(self.batch_size, len(self._memory))
            batch = [self._memory.popleft() for _ in range(count)]
            if not await self._send(batch):
                # Keep the order: this batch, then whatever arrived after it.
                rest = list(self._memory)
                self._memory.clear()
                await self._append_to_spool(batch + rest)
                return

    async def _send(self, lines: list[str]) -> bool:
        """True when the batch is done with (written, or refused as malformed)."""
        try:
            await write_lines(self.session, self.target, lines)
        except InfluxError as err:
            if err.reason == "bad_request":
                # The points are at fault, not the connection: InfluxDB wrote the valid ones of
                # the batch (partial write) and repeating the rest would fail forever.
                self.stats.refused += len(lines)
                self.stats.last_error = str(err)
                _LOGGER.warning("InfluxDB refused points: %s", err)
                return True
            self._failed(err)
            return False
        self.stats.written += len(lines)
        self.stats.batches += 1
        self.stats.last_success = time.time()
        self._backoff = 0.0
        if self.stats.unreachable_since is not None:
            self.stats.unreachable_since = None
            self.stats.last_error_reason = None
            if self.on_back is not None:
                self.on_back()
        return True

    def _failed(self, err: InfluxError) -> None:
        self.stats.failures += 1
        self.stats.last_error = str(err)
        self.stats.last_error_reason = err.reason
        if self.stats.unreachable_since is None:
            self.stats.unreachable_since = time.time()
            if self.on_unreachable is not None:
                self.on_unreachable(str(err))
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        self._backoff = min(max(self._backoff * 2, 1.0), self.max_backoff)
        self._retry_at = time.monotonic() + self._backoff * random.uniform(0.8, 1.2)
