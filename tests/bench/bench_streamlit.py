"""Benchmark: the analyst app's queries on months of minute-level data. Prints JSON.

Writes DAYS days x NODES nodes of synthetic store traffic into a fresh influxd through the
integration's own writer (`PointMaker` + `write_lines`, batches of 5000, several in flight):
every minute each node's retained state (head counts per zone, counters, personas, shelf
stock), and the events of every visitor (two crossings, a visit summary with its zone dwell
times), display impressions and shelf changes; and the hourly rollups the export writes next
to them (`occupancy_1h`, `dwell_1h`). The traffic comes from the project's synthetic
generator (`storefront_dev.synthetic`, the store simulator's, fixed seed), nodes alternating
between two stores; every node describes itself as `"synthetic": true`, so all points carry
the tag synthetic=true.

Then, for each page of the app, the full set of queries the page runs is timed with a cold
cache: the query module is called directly (no st.cache_data) with a new HTTP session each
time, `--repeat` times; the JSON holds the median seconds per page for the app's default range
(the last 7 days) and for the whole range.

    .venv/bin/python -m tests.bench.bench_streamlit [--days 90] [--nodes 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from custom_components.storefront.influx import InfluxTarget, write_lines
from custom_components.storefront.points import PointMaker
from storefront_dev.servers import Influxd
from storefront_dev.synthetic import Store
from streamlit_app import queries
from streamlit_app.config import Settings
from streamlit_app.influxql import InfluxClient

TZ = "Europe/Berlin"
DATABASE = "storefront"
SEED = 20251122
BATCH = 5000
IN_FLIGHT = 4
GOAL_S = 1.0
HEALTH_EVERY_S = 300.0  # enough for the health panels; a live node reports every 30 s
STORES = ("Synthetic North", "Synthetic South")


def generate(days: int, count: int, now: datetime) -> Iterator[list[str]]:
    """The lines of one local day for all nodes at a time, oldest day first: the messages of
    the project's synthetic generator through the integration's `PointMaker`."""
    tz = ZoneInfo(TZ)
    day = now.date() - timedelta(days=days - 1)
    store = Store(nodes=count, seed=SEED, timezone=TZ)
    makers = {store_name: PointMaker(store_name) for store_name in STORES}
    maker_of = {node_id: makers[STORES[i % 2]] for i, node_id in enumerate(store.node_ids)}

    def midnight(of: date) -> float:
        return datetime.combine(of, clock(), tz).timestamp()

    messages = store.messages(
        midnight(day), now.timestamp(), state_every_s=60.0, health_every_s=HEALTH_EVERY_S
    )
    lines: list[str] = []
    day_end = midnight(day + timedelta(days=1))
    for node_id, kind, message in messages:
        while message["ts"] >= day_end:
            yield lines
            lines, day = [], day + timedelta(days=1)
            day_end = midnight(day + timedelta(days=1))
        lines += getattr(maker_of[node_id], kind)(node_id, message)
    yield lines
    yield [text for maker in makers.values() for text in maker.rollup()]  # the open slots


async def fill(url: str, days: int, count: int, now: datetime) -> dict[str, Any]:
    target = InfluxTarget(url, database=DATABASE)
    gate = asyncio.Semaphore(IN_FLIGHT)
    written = 0
    started = time.perf_counter()
    generating = 0.0

    async def send(session: aiohttp.ClientSession, batch: list[str]) -> None:
        try:
            await write_lines(session, target, batch)
        finally:
            gate.release()

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/query", params={"q": f"CREATE DATABASE {DATABASE}"}):
            pass
        tasks: list[asyncio.Task[None]] = []
        days_iter = generate(days, count, now)
        while True:
            tick = time.perf_counter()
            # Generating is CPU work: in a thread, so the writes in flight keep going.
            lines = await asyncio.to_thread(next, days_iter, None)
            generating += time.perf_counter() - tick
            if lines is None:
                break
            for start in range(0, len(lines), BATCH):
                await gate.acquire()
                tasks.append(asyncio.create_task(send(session, lines[start : start + BATCH])))
            written += len(lines)
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return {
        "points": written,
        "fill_s": round(elapsed, 1),
        "generate_s": round(generating, 1),
        "points_per_s": round(written / elapsed),
    }


def pages(
    settings: Settings, scope: queries.base.Scope, window: queries.base.Window, now: datetime
) -> dict[str, Callable[[], object]]:
    """Each page's full set of queries, as the app runs them (sidebar included on every page)."""

    def client() -> InfluxClient:
        return InfluxClient(settings)  # a new HTTP session: nothing carried over

    # The last whole day: today may still be empty (shortly after midnight the shops are shut).
    day = now.date() - timedelta(days=1)
    return {
        "sidebar": lambda: queries.sidebar.load(client()),
        "overview": lambda: queries.overview.load(client(), scope, day, now),
        "traffic": lambda: queries.traffic.load(client(), scope, window, now),
        "zones": lambda: queries.zones.load(client(), scope, window, now),
        "personas": lambda: queries.personas.load(client(), scope, window, now),
        "shelves": lambda: queries.shelves.load(client(), scope, window, now),
        "displays": lambda: queries.displays.load(client(), scope, window, now),
    }


def measure(loaders: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in loaders}
    for _ in range(repeat):
        for name, load in loaders.items():
            start = time.perf_counter()
            result = load()
            times[name].append(time.perf_counter() - start)
            if getattr(result, "empty", False):
                raise SystemExit(f"page {name} found no data: the benchmark would measure nothing")
    return {name: round(statistics.median(values), 3) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tz = ZoneInfo(TZ)
    now = datetime.now(tz).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-streamlit-") as workdir:
        server = Influxd(workdir=Path(workdir))
        server.start()
        try:
            print(f"writing {args.days} days x {args.nodes} nodes ...", file=sys.stderr)
            filled = asyncio.run(fill(server.url, args.days, args.nodes, now))
            settings = Settings(url=server.url, database=DATABASE, timezone=TZ)
            scope = queries.base.Scope(synthetic=True, tz=TZ)
            week = queries.base.Window.days(now.date() - timedelta(days=6), now.date(), TZ)
            everything = queries.base.Window.days(
                now.date() - timedelta(days=args.days - 1), now.date(), TZ
            )
            print("measuring ...", file=sys.stderr)
            default_range = measure(pages(settings, scope, week, now), args.repeat)
            whole_range = measure(pages(settings, scope, everything, now), args.repeat)
        finally:
            server.stop()

    def within_goal(medians: dict[str, float]) -> bool:
        # The sidebar's queries run before every page.
        return all(v + medians["sidebar"] < GOAL_S for k, v in medians.items() if k != "sidebar")

    report = {
        "data": {
            "days": args.days,
            "nodes": args.nodes,
            "source": "storefront_dev.synthetic (fixed seed), tag synthetic=true",
            **filled,
        },
        "repeat": args.repeat,
        "cold_median_s_last_7_days": default_range,
        f"cold_median_s_last_{args.days}_days": whole_range,
        "goal_s": GOAL_S,
        "within_goal_last_7_days": within_goal(default_range),
        f"within_goal_last_{args.days}_days": within_goal(whole_range),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
