"""Benchmark: the integration's InfluxDB export path into a real influxd. Prints JSON.

- throughput: contract messages (state messages and crossing/visit events of 10 nodes) turned
  into points by `points.PointMaker` and written by `writer.InfluxWriter` (batches of 5000, the
  on-disk spool ready), as fast as they come; points per second until influxd acknowledged all;
- outage: the same stream at a steady pace while influxd is stopped for a few seconds and
  started again; points sent vs. points in the database afterwards, and whether each node's
  sequence numbers arrived complete and in order.

    .venv/bin/python -m tests.bench.bench_export
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import requests

from custom_components.storefront.influx import InfluxTarget
from custom_components.storefront.points import PointMaker
from custom_components.storefront.spool import Spool
from custom_components.storefront.writer import InfluxWriter
from storefront_dev.servers import Influxd
from tests.node_contract import EXAMPLES

STATE = EXAMPLES["state"]
CROSSING = EXAMPLES["event_crossing"]
VISIT = EXAMPLES["event_visit"]
NODES = [f"node{i:02d}" for i in range(10)]


def messages(count: int, start: float) -> list[tuple[str, str, dict[str, Any]]]:
    """`count` messages round-robin over 10 nodes: a crossing, a visit, a state, ..."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(count):
        node = NODES[i % len(NODES)]
        seq = i // len(NODES) + 1
        ts = start + i * 0.001
        kind = i // len(NODES) % 3
        if kind == 0:
            out.append((node, "event", {**CROSSING, "seq": seq, "track": seq, "ts": ts}))
        elif kind == 1:
            out.append((node, "event", {**VISIT, "seq": seq, "ts": ts}))
        else:
            out.append((node, "state", {**STATE, "ts": ts}))
    return out


def feed(maker: PointMaker, writer: InfluxWriter, batch: list[tuple[str, str, Any]]) -> int:
    added = 0
    for node, kind, value in batch:
        lines = maker.event(node, value) if kind == "event" else maker.state(node, value)
        writer.add(lines)
        added += len(lines)
    return added


def influxql(server: Influxd, q: str, db: str = "") -> list[list[Any]]:
    """Rows of one InfluxQL statement (a short blocking call: the bench's own bookkeeping)."""
    body = requests.post(f"{server.url}/query", params={"db": db, "q": q}, timeout=30).json()
    return [row for s in body["results"][0].get("series", []) for row in s["values"]]


def count(server: Influxd, db: str) -> int:
    rows = influxql(server, 'SELECT count("count") FROM "crossing"', db)
    return int(rows[0][1]) if rows else 0


async def until(condition: Any, within_s: float) -> None:
    async with asyncio.timeout(within_s):
        while not condition():  # noqa: ASYNC110 (polls the writer's own counter)
            await asyncio.sleep(0.1)


async def throughput(server: Influxd, workdir: Path) -> dict[str, Any]:
    db = "bench_throughput"
    influxql(server, f"CREATE DATABASE {db}")
    stream = messages(60_000, time.time() - 3600)
    maker = PointMaker("Bench store")
    async with aiohttp.ClientSession() as session:
        writer = InfluxWriter(
            session, InfluxTarget(server.url, database=db), Spool(workdir / "t.db", 10**7)
        )
        await writer.start()
        started = time.perf_counter()
        points = 0
        for i in range(0, len(stream), 1000):
            points += feed(maker, writer, stream[i : i + 1000])
            await asyncio.sleep(0)  # the event loop also serves the writer, as in HA
        await writer.flush()
        elapsed = time.perf_counter() - started
        await writer.stop()
    return {
        "messages": len(stream),
        "points": points,
        "written": writer.stats.written,
        "seconds": round(elapsed, 2),
        "points_per_s": round(points / elapsed),
        "batches": writer.stats.batches,
    }


async def outage(server: Influxd, workdir: Path) -> dict[str, Any]:
    db = "bench_outage"
    influxql(server, f"CREATE DATABASE {db}")
    stream = [m for m in messages(30_000, time.time() - 3600) if m[2].get("type") == "crossing"]
    maker = PointMaker("Bench store")
    async with aiohttp.ClientSession() as session:
        writer = InfluxWriter(
            session,
            InfluxTarget(server.url, database=db),
            Spool(workdir / "o.db", 10**7),
            max_backoff=2.0,
        )
        await writer.start()
        paced = 250  # crossings per 0.1 s: 40 steps of 0.1 s
        for step, i in enumerate(range(0, len(stream), paced)):
            feed(maker, writer, stream[i : i + paced])
            if step == 5:
                server.stop()  # influxd goes away in the middle of the stream ...
            if step == 30:
                server.start()  # ... for about 2.5 s
            await asyncio.sleep(0.1)
        await until(lambda: not writer.pending, 120)  # it retries on its own (backoff <= 2 s)
        await writer.stop()
    written_back = count(server, db)
    rows = influxql(server, 'SELECT "seq" FROM "crossing" WHERE "node" = \'node00\'', db)
    node00 = [row[1] for row in rows]
    return {
        "crossings_sent": len(stream),
        "crossings_in_database": written_back,
        "lost": len(stream) - written_back,
        "failed_writes": writer.stats.failures,
        "dropped": writer.stats.dropped,
        "node00_in_order_without_gaps": node00 == sorted(node00)
        and len(node00) == len(set(node00)) == len([s for s in stream if s[0] == "node00"]),
    }


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        server = Influxd(workdir=workdir / "influxd")
        server.workdir.mkdir()
        server.start()
        try:
            result = {
                "throughput": await throughput(server, workdir),
                "outage": await outage(server, workdir),
            }
        finally:
            server.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
