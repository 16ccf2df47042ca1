"""Two weeks of store traffic, written the way Home Assistant writes it.

Messages start from the contract's own examples (contract.json, `definitions.<kind>.examples`)
and are validated against its schema; `PointMaker` turns them into line protocol and
`write_lines` sends them to a real InfluxDB. Every message is also kept as a plain record, so
a test computes the numbers it expects from what was written, never from the app.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import requests

from custom_components.storefront.contract import CONTRACT, validate
from custom_components.storefront.influx import InfluxTarget, write_lines
from custom_components.storefront.points import PointMaker

TZ = "Europe/Berlin"
DAYS = 16  # today and the 15 days before: a week-over-week comparison for every recent day
OPEN_HOURS = range(8, 20)
STATE_EVERY = timedelta(minutes=10)
PERSONAS = ("passer_by", "browser", "focused_buyer", "lingerer")
OFFERS = ("winter_sale", "coffee_club")
BATCH = 5000


def example(kind: str) -> dict[str, Any]:
    return copy.deepcopy(CONTRACT["definitions"][kind]["examples"][0])


@dataclass(frozen=True)
class NodeSpec:
    store: str
    node: str
    zones: tuple[str, ...]
    line: str
    visitors_per_hour: tuple[int, int]
    personas: bool = False
    shelf: str | None = None
    display: str | None = None
    synthetic: bool = False


NODES = (
    NodeSpec(
        "Main Street",
        "entrance",
        ("window", "counter"),
        "door",
        (4, 14),
        personas=True,
        shelf="coffee",
        display="window_display",
    ),
    NodeSpec("Main Street", "floor", ("aisle", "counter"), "stairs", (2, 8), personas=True),
    NodeSpec("Harbour", "entrance", ("window",), "door", (1, 6)),
    # A simulated node: its points carry synthetic=true and are hidden unless asked for.
    NodeSpec("Main Street", "sim", ("window",), "door", (20, 30), synthetic=True),
)


@dataclass(frozen=True)
class Crossing:
    store: str
    node: str
    synthetic: bool
    line: str
    direction: str
    ts: float


@dataclass(frozen=True)
class Visit:
    store: str
    node: str
    synthetic: bool
    ts: float
    duration_s: float
    zones: dict[str, float]
    persona: str | None
    group_size: int


@dataclass(frozen=True)
class Occupancy:
    store: str
    node: str
    synthetic: bool
    ts: float
    total: int
    zones: dict[str, int]


@dataclass(frozen=True)
class ShelfChange:
    store: str
    node: str
    synthetic: bool
    shelf: str
    product: str
    change: str
    ts: float


@dataclass(frozen=True)
class StockReading:
    store: str
    node: str
    synthetic: bool
    shelf: str
    level: float
    status: str
    ts: float


@dataclass(frozen=True)
class Impression:
    store: str
    node: str
    synthetic: bool
    display: str
    offer: str
    looked: bool
    attention_s: float | None
    duration_s: float
    ts: float


@dataclass
class Dataset:
    """What was written, as records; `lines` is the line protocol sent to InfluxDB."""

    tz: ZoneInfo
    now: datetime
    crossings: list[Crossing] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    occupancy: list[Occupancy] = field(default_factory=list)
    shelf_changes: list[ShelfChange] = field(default_factory=list)
    stock: list[StockReading] = field(default_factory=list)
    impressions: list[Impression] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.date()

    def bounds(self, first: date, last: date) -> tuple[float, float]:
        start = datetime.combine(first, time(), self.tz)
        end = datetime.combine(last + timedelta(days=1), time(), self.tz)
        return start.timestamp(), end.timestamp()

    def select[R: (Crossing, Visit, Occupancy, ShelfChange, StockReading, Impression)](
        self,
        records: Iterable[R],
        first: date,
        last: date,
        *,
        stores: Sequence[str] = (),
        synthetic: bool = False,
    ) -> list[R]:
        """Records of whole local days `first`..`last`, as the app's filters select them."""
        start, end = self.bounds(first, last)
        return [
            r
            for r in records
            if start <= r.ts < end
            and (not stores or r.store in stores)
            and (synthetic or not r.synthetic)
        ]

    def entries(self, first: date, last: date, **scope: Any) -> int:
        chosen = self.select(self.crossings, first, last, **scope)
        return sum(1 for c in chosen if c.direction == "in")

    def exits(self, first: date, last: date, **scope: Any) -> int:
        chosen = self.select(self.crossings, first, last, **scope)
        return sum(1 for c in chosen if c.direction == "out")

    def peak_occupancy(self, day: date, **scope: Any) -> int | None:
        """Most people at once: the nodes' readings of the same minute added up."""
        per_minute: dict[int, int] = {}
        for reading in self.select(self.occupancy, day, day, **scope):
            minute = int(reading.ts // 60)
            per_minute[minute] = per_minute.get(minute, 0) + reading.total
        return max(per_minute.values()) if per_minute else None

    def visit_durations(self, day: date, **scope: Any) -> list[float]:
        return [v.duration_s for v in self.select(self.visits, day, day, **scope)]

    def visit_mean_median(self, day: date, **scope: Any) -> tuple[float, float]:
        durations = self.visit_durations(day, **scope)
        return statistics.fmean(durations), statistics.median(durations)

    def dwell(self, first: date, last: date, **scope: Any) -> dict[tuple[str, str, str], list]:
        """Dwell seconds per (store, node, zone)."""
        found: dict[tuple[str, str, str], list[float]] = {}
        for visit in self.select(self.visits, first, last, **scope):
            for zone, seconds in visit.zones.items():
                found.setdefault((visit.store, visit.node, zone), []).append(seconds)
        return found


def nearest_rank(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile (the definition InfluxQL's percentile() uses)."""
    ordered = sorted(values)
    index = int(len(ordered) * percent / 100 + 0.5) - 1
    return ordered[min(max(index, 0), len(ordered) - 1)]


def _local(day: date, hour: int, tz: ZoneInfo) -> float:
    return datetime.combine(day, time(hour), tz).timestamp()


def build(now: datetime, seed: int = 7, nodes: Sequence[NodeSpec] = NODES) -> Dataset:
    """DAYS days of traffic up to `now` (not beyond), for `nodes`."""
    tz = ZoneInfo(TZ)
    now = now.astimezone(tz)
    rng = random.Random(seed)
    data = Dataset(tz=tz, now=now)
    makers: dict[str, PointMaker] = {}
    for spec in nodes:
        maker = makers.setdefault(spec.store, PointMaker(spec.store))
        _node(data, maker, spec, rng)
    for maker in makers.values():
        data.lines += maker.rollup()  # the last hourly slots, as the export does on stop
    return data


def _node(data: Dataset, maker: PointMaker, spec: NodeSpec, rng: random.Random) -> None:
    description = example("description")
    description.update(node_id=spec.node, name=f"{spec.node} camera", timezone=TZ)
    description["zones"] = [{**description["zones"][0], "id": z, "name": z} for z in spec.zones]
    description["lines"] = [{**description["lines"][0], "id": spec.line, "name": spec.line}]
    if spec.synthetic:
        description["synthetic"] = True
    data.lines += maker.description(spec.node, validate("description", description))
    limit = data.now.timestamp()
    first = data.today - timedelta(days=DAYS - 1)
    data.lines += maker.availability(spec.node, True, _local(first, 0, data.tz))
    events: list[tuple[float, str, dict[str, Any]]] = []
    stays: list[tuple[float, float, dict[str, float]]] = []  # (enter, leave, zone dwell)
    common = {"store": spec.store, "node": spec.node, "synthetic": spec.synthetic}
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        for hour in OPEN_HOURS:
            for _ in range(rng.randint(*spec.visitors_per_hour)):
                enter = _local(day, hour, data.tz) + rng.randint(0, 3599) + rng.random()
                duration = float(rng.randint(20, 900))  # whole seconds: means are exact
                leave = enter + duration
                if leave >= limit:
                    continue
                zones = {z: float(rng.randint(5, int(duration) // 2)) for z in spec.zones}
                zones = {z: s for z, s in zones.items() if rng.random() < 0.8}
                persona = rng.choice(PERSONAS) if spec.personas else None
                group = rng.choice((1, 1, 1, 2, 3))
                stays.append((enter, leave, zones))
                events.append((enter, "crossing", {"line": spec.line, "direction": "in"}))
                events.append((leave, "crossing", {"line": spec.line, "direction": "out"}))
                visit = {"duration_s": duration, "zones": zones, "persona": persona}
                visit |= {"group_size": group, "started": enter}
                events.append((leave, "visit", visit))
                data.crossings.append(Crossing(**common, line=spec.line, direction="in", ts=enter))
                data.crossings.append(Crossing(**common, line=spec.line, direction="out", ts=leave))
                data.visits.append(
                    Visit(
                        **common,
                        ts=leave,
                        duration_s=duration,
                        zones=zones,
                        persona=persona,
                        group_size=group,
                    )
                )
                if spec.shelf and rng.random() < 0.3:
                    change = "taken" if rng.random() < 0.8 else "returned"
                    at = enter + duration / 2
                    events.append((at, "shelf", {"shelf": spec.shelf, "change": change}))
                    data.shelf_changes.append(
                        ShelfChange(
                            **common, shelf=spec.shelf, product="espresso", change=change, ts=at
                        )
                    )
            if spec.display:
                for _ in range(rng.randint(5, 15)):
                    at = _local(day, hour, data.tz) + rng.randint(0, 3599) + rng.random()
                    if at >= limit:
                        continue
                    looked = rng.random() < 0.4
                    impression = {
                        "display": spec.display,
                        "offer": rng.choice(OFFERS),
                        "looked": looked,
                        "duration_s": float(rng.randint(2, 20)),
                        "attention_s": float(rng.randint(1, 5)) if looked else None,
                    }
                    events.append((at, "impression", impression))
                    data.impressions.append(Impression(**common, ts=at, **impression))
    events.sort(key=lambda e: e[0])
    for seq, (ts, kind, fields) in enumerate(events, start=1):
        data.lines += maker.event(spec.node, _event(kind, seq, ts, fields, rng))
    _states(data, maker, spec, stays, rng)
    _health(data, maker, spec, first)


def _event(kind: str, seq: int, ts: float, fields: dict[str, Any], rng: random.Random) -> dict:
    message = example(f"event_{kind}")
    message.update(seq=seq, ts=round(ts, 3), **fields)
    if kind == "visit":
        message["track"] = seq
        message["path"] = list(fields["zones"])
        message["started"] = round(fields["started"], 3)
        message["cart"] = {"taken": [], "returned": []}
    elif kind == "crossing":
        message["track"] = seq
    elif kind == "shelf":
        message["level"] = round(rng.uniform(0.2, 1.0), 2)
    elif kind == "impression":
        message["track"] = seq
        if message["attention_s"] is None:
            del message["attention_s"]
    return validate(f"event_{kind}", message)


def _states(
    data: Dataset,
    maker: PointMaker,
    spec: NodeSpec,
    stays: list[tuple[float, float, dict[str, float]]],
    rng: random.Random,
) -> None:
    """A retained state every STATE_EVERY: occupancy from the visits under way, counters
    since local midnight, a stock level. Every node reports at the same instants."""
    mine = [v for v in data.visits if (v.store, v.node) == (spec.store, spec.node)]
    crossings = [c for c in data.crossings if (c.store, c.node) == (spec.store, spec.node)]
    visit_times = sorted(v.ts for v in mine)
    persona_times = {p: sorted(v.ts for v in mine if v.persona == p) for p in PERSONAS}
    direction_times = {
        d: sorted(c.ts for c in crossings if c.direction == d) for d in ("in", "out")
    }
    stays = sorted(stays)
    enters = [s[0] for s in stays]

    def since(times: list[float], midnight: float, ts: float) -> int:
        return bisect.bisect_left(times, ts) - bisect.bisect_left(times, midnight)

    first = data.today - timedelta(days=DAYS - 1)
    moment = datetime.combine(first, time(), data.tz)
    level = 1.0
    common = {"store": spec.store, "node": spec.node, "synthetic": spec.synthetic}
    while moment < data.now:
        ts = moment.timestamp()
        # A stay lasts at most 900 s: only those that began in the last 900 s can be under way.
        recent = stays[bisect.bisect_left(enters, ts - 900) : bisect.bisect_right(enters, ts)]
        here = [s for s in recent if s[0] <= ts < s[1]]
        zones = {z: sum(1 for s in here if z in s[2]) for z in spec.zones}
        midnight = datetime.combine(moment.date(), time(), data.tz).timestamp()
        state = example("state")
        state.update(ts=ts, day=moment.date().isoformat(), last_seq=0)
        state["occupancy"] = {"total": len(here), "zones": zones}
        state["counters"] = {
            "lines": {spec.line: {d: since(t, midnight, ts) for d, t in direction_times.items()}},
            "visits": since(visit_times, midnight, ts),
        }
        if spec.personas:
            state["counters"]["personas"] = {
                p: since(t, midnight, ts) for p, t in persona_times.items()
            }
        if spec.shelf:
            if moment.hour == 7 and moment.minute == 0:
                level = 1.0  # restocked before opening
            if 8 <= moment.hour < 20 and rng.random() < 0.5:
                level = max(0.0, level - 0.02)
            status = "ok" if level > 0.3 else "low"
            reading = {"level": round(level, 2), "status": status, "taken": 0, "returned": 0}
            state["stock"] = {spec.shelf: reading}
            data.stock.append(
                StockReading(
                    **common, shelf=spec.shelf, level=round(level, 2), status=status, ts=ts
                )
            )
        else:
            state.pop("stock", None)
        data.lines += maker.state(spec.node, validate("state", state))
        data.occupancy.append(Occupancy(**common, ts=ts, total=len(here), zones=zones))
        moment += STATE_EVERY


def _health(data: Dataset, maker: PointMaker, spec: NodeSpec, first: date) -> None:
    """An hourly health report (the app does not read it; the database holds it as it would)."""
    start = datetime.combine(first, time(), data.tz)
    moment = start
    while moment < data.now:
        health = example("health")
        health.update(ts=moment.timestamp(), uptime_s=(moment - start).total_seconds())
        data.lines += maker.health(spec.node, validate("health", health))
        moment += timedelta(hours=1)


def create_database(url: str, database: str) -> None:
    response = requests.post(f"{url}/query", params={"q": f'CREATE DATABASE "{database}"'})
    response.raise_for_status()


def write(url: str, database: str, lines: Sequence[str]) -> None:
    """Create the database and write the lines through the integration's writer."""
    create_database(url, database)

    async def send() -> None:
        target = InfluxTarget(url, database=database)
        async with aiohttp.ClientSession() as session:
            for start in range(0, len(lines), BATCH):
                await write_lines(session, target, list(lines[start : start + BATCH]))

    asyncio.run(send())
