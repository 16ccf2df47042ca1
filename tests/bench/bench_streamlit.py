"""Benchmark: the analyst app's queries on months of minute-level data. Prints JSON.

Writes DAYS days x NODES nodes of synthetic store traffic into a fresh influxd through the
integration's own writer (`PointMaker` + `write_lines`, batches of 5000, several in flight):
every minute a node's head count and three zones' head counts, every 15 minutes its retained
state (counters, personas, a shelf's stock), and the events of every visitor (two crossings,
a visit summary with its zone dwell times), plus display impressions and shelf changes on some
nodes. The traffic is made up here with a fixed seed; every node describes itself as
`"synthetic": true`, so all points carry the tag synthetic=true.

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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np

from custom_components.storefront.influx import InfluxTarget, write_lines
from custom_components.storefront.points import PointMaker
from storefront_dev.servers import Influxd
from streamlit_app import queries
from streamlit_app.config import Settings
from streamlit_app.influxql import InfluxClient
from tests.streamlit.dataset import example

TZ = "Europe/Berlin"
DATABASE = "storefront"
SEED = 20251122
BATCH = 5000
IN_FLIGHT = 4
GOAL_S = 1.0
STATE_EVERY_MIN = 15
ZONES = ("window", "aisle", "counter")
ZONE_CHANCE = (0.6, 0.7, 0.5)
PERSONAS = ("passer_by", "browser", "focused_buyer", "lingerer", "group")
OFFERS = ("winter_sale", "coffee_club", "new_arrivals")
# Visitors per hour at a node, by local hour (a small shop: lunch and after-work peaks).
HOURLY = {8: 8, 9: 12, 10: 16, 11: 20, 12: 26, 13: 24, 14: 16, 15: 15, 16: 18, 17: 25, 18: 22,
          19: 12}  # fmt: skip
WEEKDAY = (0.9, 0.9, 1.0, 1.0, 1.2, 1.4, 0.5)  # Mon..Sun


@dataclass(frozen=True)
class Node:
    store: str
    node: str
    display: bool
    shelf: bool


def nodes(count: int) -> list[Node]:
    stores = ("Synthetic North", "Synthetic South")
    return [
        Node(stores[i % 2], f"cam{i:02d}", display=i % 3 == 0, shelf=i % 3 == 1)
        for i in range(count)
    ]


def describe(maker: PointMaker, node: Node) -> None:
    """The contract's example description, as this node: synthetic, so its points carry
    synthetic=true."""
    description = example("description")
    description.update(node_id=node.node, name=node.node, timezone=TZ, synthetic=True)
    maker.description(node.node, description)


def day_lines(
    maker: PointMaker, node: Node, day: date, seq: int, rng: np.random.Generator, limit: float
) -> tuple[list[str], int]:
    """One node's points for one local day (only before `limit`); the next sequence number."""
    tz = ZoneInfo(TZ)
    midnight = datetime.combine(day, clock(), tz).timestamp()
    factor = WEEKDAY[day.weekday()]
    counts = {hour: rng.poisson(rate * factor) for hour, rate in HOURLY.items()}
    enter = np.concatenate(
        [midnight + hour * 3600 + rng.uniform(0, 3600, n) for hour, n in counts.items()]
    )
    enter.sort()
    duration = np.clip(rng.lognormal(np.log(240), 0.8, enter.size), 10, 3600).round(1)
    leave = enter + duration
    visited = rng.random((enter.size, len(ZONES))) < np.array(ZONE_CHANCE)
    share = rng.uniform(0.1, 0.6, (enter.size, len(ZONES)))
    dwell = (share * duration[:, None]).round(1)

    events: list[tuple[float, dict[str, Any]]] = []
    for i in range(enter.size):
        if leave[i] >= limit:
            continue
        zones = {z: float(dwell[i, j]) for j, z in enumerate(ZONES) if visited[i, j]}
        events.append((float(enter[i]), {"type": "crossing", "line": "door", "direction": "in"}))
        events.append((float(leave[i]), {"type": "crossing", "line": "door", "direction": "out"}))
        events.append(
            (
                float(leave[i]),
                {
                    "type": "visit",
                    "duration_s": float(duration[i]),
                    "zones": zones,
                    "group_size": int(rng.choice((1, 1, 1, 2, 3))),
                    "persona": str(rng.choice(PERSONAS)),
                },
            )
        )
        if node.shelf and rng.random() < 0.15:
            change = "taken" if rng.random() < 0.85 else "returned"
            events.append(
                (
                    float(enter[i] + duration[i] / 2),
                    {
                        "type": "shelf",
                        "shelf": "coffee",
                        "change": change,
                        "level": 0.5,
                        "product": "espresso",
                    },
                )
            )
    if node.display:
        passers = rng.poisson(60 * factor, len(HOURLY)).sum()
        for at in midnight + 8 * 3600 + rng.uniform(0, 12 * 3600, passers):
            if at < limit:
                looked = bool(rng.random() < 0.35)
                impression = {
                    "type": "impression",
                    "display": "window_display",
                    "offer": str(rng.choice(OFFERS)),
                    "duration_s": round(float(rng.uniform(1, 15)), 1),
                    "looked": looked,
                    "attention_s": round(float(rng.uniform(0.5, 5)), 1) if looked else None,
                }
                events.append((float(at), impression))
    events.sort(key=lambda e: e[0])

    lines: list[str] = []
    for ts, event in events:
        seq += 1
        lines += maker.event(node.node, {**event, "ts": ts, "seq": seq, "track": seq})

    # Head counts per minute: +1 at the minute a visitor enters, -1 at the minute it leaves.
    minute_of = lambda t: np.clip(((t - midnight) // 60).astype(int), 0, 1440)  # noqa: E731
    total = np.zeros(1441, dtype=int)
    np.add.at(total, minute_of(enter), 1)
    np.add.at(total, minute_of(leave), -1)
    total = np.cumsum(total)[:1440]
    per_zone = []
    for j in range(len(ZONES)):
        counts_z = np.zeros(1441, dtype=int)
        start = enter + (duration - dwell[:, j]) * share[:, j]
        chosen = visited[:, j]
        np.add.at(counts_z, minute_of(start[chosen]), 1)
        np.add.at(counts_z, minute_of(start[chosen] + dwell[chosen, j]), -1)
        per_zone.append(np.cumsum(counts_z)[:1440])
    done = np.searchsorted(leave, midnight + np.arange(1440) * 60)  # visits finished so far
    level = 1.0
    for minute in range(1440):
        ts = midnight + minute * 60
        if ts >= limit:
            break
        occupancy = {
            "total": int(total[minute]),
            "zones": {z: int(per_zone[j][minute]) for j, z in enumerate(ZONES)},
        }
        if minute % STATE_EVERY_MIN:
            lines += maker.occupancy(node.node, {"occupancy": occupancy}, ts)
            continue
        finished = int(done[minute])
        state: dict[str, Any] = {
            "ts": ts,
            "occupancy": occupancy,
            "counters": {
                "lines": {"door": {"in": int(np.searchsorted(enter, ts)), "out": finished}},
                "visits": finished,
                "personas": {p: finished // len(PERSONAS) for p in PERSONAS},
            },
        }
        if node.shelf:
            level = 1.0 if minute < 8 * 60 else max(0.05, level - 0.01)
            state["stock"] = {
                "coffee": {
                    "level": round(level, 2),
                    "status": "ok" if level > 0.3 else "low",
                    "taken": 0,
                    "returned": 0,
                }
            }
        lines += maker.state(node.node, state)
    return lines, seq


def generate(days: int, count: int, now: datetime) -> Iterator[list[str]]:
    """The lines of one day for all nodes at a time, oldest day first."""
    rng = np.random.default_rng(SEED)
    all_nodes = nodes(count)
    makers = {store: PointMaker(store) for store in {n.store for n in all_nodes}}
    for node in all_nodes:
        describe(makers[node.store], node)
    seqs = dict.fromkeys((n.node for n in all_nodes), 0)
    first = now.date() - timedelta(days=days - 1)
    for offset in range(days):
        day = first + timedelta(days=offset)
        lines: list[str] = []
        for node in all_nodes:
            more, seqs[node.node] = day_lines(
                makers[node.store], node, day, seqs[node.node], rng, now.timestamp()
            )
            lines += more
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
            "source": "synthetic (tests/bench/bench_streamlit.py, fixed seed), tag synthetic=true",
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
