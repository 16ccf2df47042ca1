"""The store simulator: virtual camera nodes that publish made-up shop traffic by the contract.

Every simulated node is labelled as such: its id is `sim-<n>`, its description's `name` starts
with "Synthetic" and carries `"synthetic": true`, so Home Assistant names the device accordingly
and every InfluxDB point it leads to is tagged `synthetic=true`.

The traffic follows a shop's day: opening hours per weekday, arrivals from a daily curve with
lunch and after-work peaks on weekdays and one broad peak on Saturdays, groups, behavioural
personas, a path through the node's zones with log-normal dwell times, products taken from and
put back on shelves, passers at a display. Each person crosses the door line in, moves through
the zones and crosses it out before closing, so `in - out` of the day always equals the node's
occupancy and nobody leaves who did not enter. Counters run from local midnight, as a real
node's do.

Two ways to use it:

- `Store(nodes=10, seed=1).messages(start_ts, end_ts)` yields `(node_id, kind, message)` in time
  order, kind one of "description", "state", "health", "event" — a pure generator for tests and
  benchmarks. The same seed gives the same messages; a run starting later on the same day
  gives the same events with the same `seq` (the node's day is simulated from local midnight,
  and only what happens from `start_ts` on is yielded).
- `LiveSimulation(store, host, port).run(speed=...)` publishes them to a broker in real time or
  faster (`storefront-edge simulate`), one MQTT connection per node with the real node's retained
  availability, Last Will, retained description/state/health and QoS 1 events.

Only the standard library is needed for the generator; paho-mqtt only for the live mode.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import heapq
import json
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from . import __version__

DEFAULT_TIMEZONE = "Europe/Berlin"
DEFAULT_TOPIC_ROOT = "storefront"
NODE_PREFIX = "sim"
MODEL_NAME = "storefront-simulator"
MODEL_SHA256 = hashlib.sha256(MODEL_NAME.encode()).hexdigest()
PERSONAS = ("passer_by", "browser", "focused_buyer", "lingerer", "group", "staff_like")
# Persona of a person who comes alone, and how often.
SOLO_PERSONAS = (("passer_by", 0.28), ("browser", 0.38), ("focused_buyer", 0.24),
                 ("lingerer", 0.08), ("staff_like", 0.02))  # fmt: skip
GROUP_SIZES = ((1, 0.72), (2, 0.20), (3, 0.06), (4, 0.02))
MEAN_GROUP_SIZE = sum(size * weight for size, weight in GROUP_SIZES)
WEEKDAY_FACTOR = (0.85, 0.9, 0.95, 1.0, 1.15, 1.4, 0.7)  # Monday .. Sunday
LAST_ENTRY_BEFORE_CLOSE_S = 600.0  # the door is locked ten minutes before closing ...
LATEST_EXIT_AFTER_CLOSE_S = 900.0  # ... and everyone has left fifteen minutes after it
LOW_STOCK = 0.2

Point = tuple[float, float]
Polygon = tuple[Point, ...]


def _rect(x1: float, y1: float, x2: float, y2: float) -> Polygon:
    return ((x1, y1), (x2, y1), (x2, y2), (x1, y2))


# --- what a simulated node looks like -------------------------------------------------------


@dataclass(frozen=True)
class ZoneSpec:
    id: str
    name: str
    polygon: Polygon
    dwell_median_s: float  # a browser's typical time in this zone
    dwell_sigma: float = 0.7  # log-normal spread
    capacity: int | None = None


@dataclass(frozen=True)
class ShelfSpec:
    id: str
    name: str
    zone: str  # people take from it while they are in this zone
    polygon: Polygon
    products: tuple[tuple[str, str], ...]
    units: int  # items when full


@dataclass(frozen=True)
class DisplaySpec:
    id: str
    name: str
    polygon: Polygon
    offers: tuple[tuple[float, str], ...]  # (from local hour, offer shown)
    pass_share: float  # share of people entering who pass it
    look_share: float  # share of those who turn towards it


@dataclass(frozen=True)
class Layout:
    """One kind of camera view: its zones, door, display, shelves, hours and traffic."""

    kind: str
    title: str
    visitors_per_day: float  # people on a typical Thursday
    capacity: int
    hours: tuple[tuple[float, float] | None, ...]  # Monday .. Sunday: (open, close), local hours
    peaks: tuple[tuple[float, float, float], ...]  # weekday arrival peaks: (hour, width, weight)
    zones: tuple[ZoneSpec, ...]
    display: DisplaySpec | None = None
    shelves: tuple[ShelfSpec, ...] = ()

    @property
    def pay_zone(self) -> str:
        return self.zones[-1].id


SATURDAY_PEAKS = ((13.5, 2.5, 1.0),)
DOOR = ("door", "Door", (0.05, 0.2), (0.95, 0.2))  # 'in' is walking down into the view

LAYOUTS = (
    Layout(
        kind="entrance",
        title="shop entrance",
        visitors_per_day=420,
        capacity=30,
        hours=((9, 19),) * 5 + ((9, 18), None),
        peaks=((10.5, 1.5, 0.6), (12.75, 0.9, 1.0), (17.5, 1.2, 1.2)),
        zones=(
            ZoneSpec("window", "Window", _rect(0.0, 0.3, 0.35, 1.0), 20, 0.6),
            ZoneSpec("aisle", "Aisle", _rect(0.35, 0.3, 0.7, 1.0), 45, 0.8),
            ZoneSpec("counter", "Counter", _rect(0.7, 0.3, 1.0, 1.0), 90, 0.6, capacity=4),
        ),
        display=DisplaySpec(
            "window_display",
            "Window display",
            _rect(0.0, 0.2, 0.3, 0.45),
            ((0, "new_arrivals"), (14, "winter_sale")),
            pass_share=0.6,
            look_share=0.35,
        ),
    ),
    Layout(
        kind="cafe",
        title="cafe corner",
        visitors_per_day=320,
        capacity=40,
        hours=((7, 19),) * 5 + ((8, 18), (9, 16)),
        peaks=((8.25, 0.8, 1.0), (12.5, 0.8, 1.6), (15.5, 1.0, 0.7), (17.5, 0.8, 0.5)),
        zones=(
            ZoneSpec("queue", "Queue", _rect(0.0, 0.3, 0.3, 1.0), 60, 0.6, capacity=8),
            ZoneSpec("seating", "Seating", _rect(0.3, 0.3, 0.7, 1.0), 900, 0.5),
            ZoneSpec("counter", "Counter", _rect(0.7, 0.3, 1.0, 1.0), 40, 0.5, capacity=4),
        ),
        display=DisplaySpec(
            "menu_board",
            "Menu board",
            _rect(0.0, 0.2, 0.4, 0.4),
            ((0, "breakfast_deal"), (11, "lunch_menu"), (14.5, "coffee_club")),
            pass_share=0.8,
            look_share=0.5,
        ),
        shelves=(
            ShelfSpec(
                "pastry",
                "Pastry shelf",
                "counter",
                _rect(0.75, 0.35, 0.95, 0.55),
                (("croissant", "Croissant"), ("muffin", "Muffin")),
                units=40,
            ),
        ),
    ),
    Layout(
        kind="grocery",
        title="grocery floor",
        visitors_per_day=600,
        capacity=50,
        hours=((8, 20),) * 6 + (None,),
        peaks=((9.5, 1.2, 0.5), (12.5, 0.8, 0.8), (18.0, 1.0, 1.6)),
        zones=(
            ZoneSpec("produce", "Produce", _rect(0.0, 0.3, 0.3, 1.0), 60, 0.7),
            ZoneSpec("aisles", "Aisles", _rect(0.3, 0.3, 0.7, 1.0), 120, 0.8),
            ZoneSpec("checkout", "Checkout", _rect(0.7, 0.3, 1.0, 1.0), 75, 0.5, capacity=6),
        ),
        shelves=(
            ShelfSpec(
                "coffee",
                "Coffee shelf",
                "aisles",
                _rect(0.35, 0.35, 0.65, 0.5),
                (("espresso", "Espresso beans"), ("filter_coffee", "Filter coffee")),
                units=48,
            ),
            ShelfSpec(
                "snacks",
                "Snack rack",
                "checkout",
                _rect(0.75, 0.35, 0.95, 0.5),
                (("chocolate", "Chocolate bar"), ("crisps", "Crisps")),
                units=60,
            ),
        ),
    ),
)

# How each persona behaves: (dwell relative to a browser's, chance to take from a shelf).
BEHAVIOUR = {
    "passer_by": (0.4, 0.05),
    "browser": (1.0, 0.35),
    "focused_buyer": (0.6, 0.85),
    "lingerer": (2.5, 0.2),
    "group": (1.3, 0.3),
    "staff_like": (5.0, 0.0),
}


def _polygon(points: Polygon) -> list[list[float]]:
    return [[x, y] for x, y in points]


@dataclass(frozen=True)
class SimNode:
    """One virtual node: an id, a layout and how busy its shop is."""

    node_id: str
    index: int
    layout: Layout
    scale: float  # traffic relative to the layout's typical day
    timezone: str

    @property
    def name(self) -> str:
        return f"Synthetic {self.layout.title} {self.index}"

    def description(self, ts: float) -> dict[str, Any]:
        layout = self.layout
        door_id, door_name, start, end = DOOR
        zones = []
        for zone in layout.zones:
            item: dict[str, Any] = {"id": zone.id, "name": zone.name}
            item["polygon"] = _polygon(zone.polygon)
            if zone.capacity is not None:
                item["capacity"] = zone.capacity
            zones.append(item)
        display = layout.display
        return {
            "schema": 1,
            "node_id": self.node_id,
            "name": self.name,
            "sw_version": __version__,
            "hw_version": "simulated",
            "model": {"name": MODEL_NAME, "sha256": MODEL_SHA256},
            "timezone": self.timezone,
            "capacity": layout.capacity,
            "zones": zones,
            "lines": [
                {
                    "id": door_id,
                    "name": door_name,
                    "start": list(start),
                    "end": list(end),
                    "entrance": True,
                }
            ],
            "displays": []
            if display is None
            else [{"id": display.id, "name": display.name, "polygon": _polygon(display.polygon)}],
            "shelves": [
                {
                    "id": shelf.id,
                    "name": shelf.name,
                    "polygon": _polygon(shelf.polygon),
                    "products": [{"id": pid, "name": pname} for pid, pname in shelf.products],
                }
                for shelf in layout.shelves
            ],
            "features": {"snapshot": False, "personas": True, "attention": True, "mood": False},
            "synthetic": True,
            "ts": round(ts, 3),
        }


class Store:
    """A store of `nodes` simulated nodes, `sim-1` .. `sim-<nodes>`, deterministic in `seed`.

    Node n has the same layout and traffic whatever the number of nodes around it.
    """

    def __init__(self, nodes: int = 3, seed: int = 1, timezone: str = DEFAULT_TIMEZONE) -> None:
        if not 1 <= nodes <= 999:
            raise ValueError(f"nodes: {nodes} is out of range; simulate 1 to 999 nodes")
        try:  # an unknown zone fails here, not in the middle of a run
            ZoneInfo(timezone)
        except (ValueError, KeyError):
            raise ValueError(f"timezone: {timezone!r} is not a known IANA time zone") from None
        self.seed = seed
        self.timezone = timezone
        self.nodes = [
            SimNode(
                node_id=f"{NODE_PREFIX}-{index}",
                index=index,
                layout=LAYOUTS[(index - 1) % len(LAYOUTS)],
                scale=random.Random(f"{seed}:{index}:scale").uniform(0.7, 1.3),
                timezone=timezone,
            )
            for index in range(1, nodes + 1)
        ]

    @property
    def node_ids(self) -> list[str]:
        return [node.node_id for node in self.nodes]

    def messages(
        self,
        start_ts: float,
        end_ts: float | None = None,
        *,
        state_every_s: float = 60.0,
        health_every_s: float = 30.0,
        state_min_interval_s: float | None = None,
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every message of every node from `start_ts` until `end_ts` (None: forever).

        Each node starts with its description, state and health at `start_ts`; then state every
        `state_every_s` and health every `health_every_s` (on multiples of them since the epoch,
        so a state falls on every local midnight), and events as they happen. With
        `state_min_interval_s`, a node also publishes its state after a change, at most that
        often, as a real node does.
        """
        if state_every_s <= 0 or health_every_s <= 0:
            raise ValueError("state_every_s and health_every_s must be positive")
        if end_ts is not None and end_ts < start_ts:
            raise ValueError("end_ts is before start_ts")
        runs = [
            _NodeRun(
                node,
                self.seed,
                start_ts=start_ts,
                end_ts=end_ts,
                state_every_s=state_every_s,
                health_every_s=health_every_s,
                state_min_interval_s=state_min_interval_s,
            ).messages()
            for node in self.nodes
        ]
        for _ts, node_id, kind, message in heapq.merge(*runs, key=itemgetter(0)):
            yield node_id, kind, message


def topic(root: str, node_id: str, kind: str, message: dict[str, Any] | None = None) -> str:
    """The contract's topic for a message of `kind` ("event" needs the message for its type)."""
    if kind == "event":
        assert message is not None
        return f"{root}/{node_id}/event/{message['type']}"
    return f"{root}/{node_id}/{kind}"


# --- one day of people ----------------------------------------------------------------------


@dataclass
class _Person:
    track: int
    entered: float
    left: float
    persona: str
    group_size: int
    segments: list[tuple[str, float, float]]  # (zone, from, to)
    display: tuple[float, float, bool, float] | None = None  # (end, duration, looked, attention)
    taken: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


def _choose(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    values = [value for value, _ in weighted]
    weights = [weight for _, weight in weighted]
    return rng.choices(values, weights)[0]


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; fine for the few arrivals a minute a shop sees."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _arrival_curve(layout: Layout, weekday: int, hour: float) -> float:
    peaks = layout.peaks if weekday < 5 else SATURDAY_PEAKS
    level = 0.3
    for centre, width, weight in peaks:
        level += weight * math.exp(-0.5 * ((hour - centre) / width) ** 2)
    return level


def _local_ts(day: dt.date, hour: float, tz: ZoneInfo) -> float:
    midnight = dt.datetime.combine(day, dt.time(0), tz)
    return (midnight + dt.timedelta(hours=hour)).timestamp()


def _arrivals(node: SimNode, day: dt.date, rng: random.Random) -> list[float]:
    """When groups arrive on `day`: a Poisson process following the day's curve."""
    layout = node.layout
    hours = layout.hours[day.weekday()]
    if hours is None:
        return []
    opening, closing = hours
    tz = ZoneInfo(node.timezone)
    open_ts = _local_ts(day, opening, tz)
    minutes = int(((closing - opening) * 3600 - LAST_ENTRY_BEFORE_CLOSE_S) // 60)
    curve = [_arrival_curve(layout, day.weekday(), opening + m / 60) for m in range(minutes)]
    people = (
        layout.visitors_per_day
        * node.scale
        * WEEKDAY_FACTOR[day.weekday()]
        * rng.lognormvariate(0.0, 0.12)  # weather, events, luck
    )
    groups = people / MEAN_GROUP_SIZE
    total = sum(curve)
    times = []
    for minute, level in enumerate(curve):
        for _ in range(_poisson(rng, groups * level / total)):
            times.append(open_ts + 60 * minute + rng.uniform(0, 60))
    times.sort()
    return times


def _plan_path(layout: Layout, persona: str, rng: random.Random) -> list[str]:
    zones = [zone.id for zone in layout.zones]
    if persona == "passer_by":
        return [zones[0]]
    if persona == "focused_buyer":
        shelf_zones = [shelf.zone for shelf in layout.shelves]
        first = rng.choice(shelf_zones) if shelf_zones else rng.choice(zones[:-1])
        return [first, layout.pay_zone] if first != layout.pay_zone else [first]
    if persona == "staff_like":
        return [rng.choice(zones) for _ in range(rng.randint(3, 6))]
    picked = sorted(rng.sample(range(len(zones)), rng.randint(1, len(zones))))
    path = [zones[i] for i in picked]
    if persona in ("browser", "group") and len(path) > 1 and rng.random() < 0.25:
        path.append(path[0])  # back to where they started
    return path


def _plan_visit(
    layout: Layout, persona: str, entered: float, closing_ts: float, rng: random.Random
) -> tuple[list[tuple[str, float, float]], float, tuple[float, float, bool, float] | None]:
    """Zones with their times, the moment of leaving, and the display pass (if any)."""
    zones = {zone.id: zone for zone in layout.zones}
    factor, _ = BEHAVIOUR[persona]
    display = None
    transit = rng.uniform(2.0, 5.0)
    if layout.display is not None and rng.random() < layout.display.pass_share:
        duration = min(60.0, max(1.0, rng.lognormvariate(math.log(4.0), 0.6)))
        looked = rng.random() < layout.display.look_share
        attention = round(duration * rng.uniform(0.3, 0.8), 1) if looked else 0.0
        display = (entered + duration, duration, looked, attention)
        transit = duration + 1.0
    path = _plan_path(layout, persona, rng)
    dwell = []
    for zone_id in path:
        zone = zones[zone_id]
        seconds = rng.lognormvariate(math.log(zone.dwell_median_s * factor), zone.dwell_sigma)
        dwell.append(min(3 * 3600.0, max(2.0, seconds)))
    gaps = [rng.uniform(1.0, 4.0) for _ in path]
    leave_after = transit + sum(dwell) + sum(gaps)
    room = closing_ts + LATEST_EXIT_AFTER_CLOSE_S - entered
    if leave_after > room:  # closing time: everyone hurries
        shrink = room / leave_after
        transit, dwell, gaps = (
            transit * shrink,
            [d * shrink for d in dwell],
            [g * shrink for g in gaps],
        )
        if display is not None and display[0] > entered + transit:
            duration = transit
            display = (entered + duration, duration, display[2], min(display[3], duration))
    segments = []
    t = entered + transit
    for zone_id, seconds, gap in zip(path, dwell, gaps, strict=True):
        segments.append((zone_id, t, t + seconds))
        t += seconds + gap
    return segments, t, display


# --- one node's run -------------------------------------------------------------------------

# Order of things that happen at the same instant: a new day first, then the node's start, then
# people leaving zones, leaving, entering, entering zones, the rest, and state and health last.
DAY, START, ZONE_OUT, EXIT, ENTER, ZONE_IN, DISPLAY, SHELF, OPEN, RESTOCK, STATE, HEALTH = range(12)


class _Dwell:
    """Dwell samples of one zone for the day, kept sorted; statistics as the real node has."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.total = 0.0
        self._stats: dict[str, Any] | None = {"count": 0, "mean_s": 0.0}

    def add(self, seconds: float) -> None:
        bisect.insort(self.samples, seconds)
        self.total += seconds
        self._stats = None

    def _quantile(self, q: float) -> float:
        position = q * (len(self.samples) - 1)
        low = math.floor(position)
        high = min(low + 1, len(self.samples) - 1)
        return self.samples[low] + (self.samples[high] - self.samples[low]) * (position - low)

    def stats(self) -> dict[str, Any]:
        if self._stats is None:
            self._stats = {
                "count": len(self.samples),
                "mean_s": round(self.total / len(self.samples), 1),
                "p50_s": round(self._quantile(0.5), 1),
                "p90_s": round(self._quantile(0.9), 1),
            }
        return dict(self._stats)


@dataclass
class _Counters:
    """Everything a node counts since local midnight."""

    day: str
    layout: Layout
    lines: dict[str, dict[str, int]] = field(init=False)
    visits: int = 0
    dwell: dict[str, _Dwell] = field(init=False)
    personas: dict[str, int] = field(init=False)
    impressions: dict[str, dict[str, int]] = field(init=False)
    shelf_moves: dict[str, dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        layout = self.layout
        self.lines = {DOOR[0]: {"in": 0, "out": 0}}
        self.dwell = {zone.id: _Dwell() for zone in layout.zones}
        self.personas = dict.fromkeys(PERSONAS, 0)
        displays = [layout.display.id] if layout.display is not None else []
        self.impressions = {d: {"passers": 0, "impressions": 0} for d in displays}
        self.shelf_moves = {s.id: {"taken": 0, "returned": 0} for s in layout.shelves}

    def to_contract(self) -> dict[str, Any]:
        counters: dict[str, Any] = {
            "lines": {line: dict(counts) for line, counts in self.lines.items()},
            "visits": self.visits,
            "dwell": {zone: samples.stats() for zone, samples in self.dwell.items()},
            "personas": dict(self.personas),
        }
        if self.impressions:
            counters["impressions"] = {d: dict(c) for d, c in self.impressions.items()}
        return counters


class _NodeRun:
    """Simulates one node from local midnight of the start day; yields from `start_ts` on."""

    def __init__(
        self,
        node: SimNode,
        seed: int,
        *,
        start_ts: float,
        end_ts: float | None,
        state_every_s: float,
        health_every_s: float,
        state_min_interval_s: float | None,
    ) -> None:
        self.node = node
        self.layout = node.layout
        self.seed = seed
        self.tz = ZoneInfo(node.timezone)
        self.start_ts = start_ts
        self.end_ts = end_ts
        self.state_every_s = state_every_s
        self.health_every_s = health_every_s
        self.state_min_interval_s = state_min_interval_s
        first_day = dt.datetime.fromtimestamp(start_ts, self.tz).date()
        # A run that begins on another day is a node with fresh storage: a new stream.
        key = f"{seed}:{node.node_id}:{first_day.isoformat()}"
        self.stream = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.rng = random.Random(f"{key}:health")  # drawn from only for what is published
        self.stock_rng = random.Random(f"{key}:stock")  # drawn from as the day goes by
        self.seq = 0
        self.tracks = 0
        self.counters = _Counters(first_day.isoformat(), self.layout)
        self.inside: set[int] = set()
        self.zone_people = {zone.id: 0 for zone in self.layout.zones}
        self.units = {shelf.id: shelf.units for shelf in self.layout.shelves}
        self.restock_due: set[str] = set()
        self.closing_ts = -math.inf
        self.last_state = -math.inf
        self.state_pending = False  # a state after a change is scheduled
        self.state_dirty = False  # something changed since the last state
        self.skipped_frames = 0
        self._heap: list[tuple[float, int, int, str, Any]] = []
        self._pushed = 0
        self._out: list[tuple[str, dict[str, Any]]] = []
        self._push(_local_ts(first_day, 0, self.tz), DAY, "day", first_day)
        self._push(start_ts, START, "start", None)

    # --- scheduling ---------------------------------------------------------------------

    def _push(self, ts: float, order: int, kind: str, data: Any) -> None:
        self._pushed += 1
        heapq.heappush(self._heap, (ts, order, self._pushed, kind, data))

    def messages(self) -> Iterator[tuple[float, str, str, dict[str, Any]]]:
        node_id = self.node.node_id
        while self._heap:
            ts, _, _, kind, data = heapq.heappop(self._heap)
            if self.end_ts is not None and ts >= self.end_ts:
                return
            getattr(self, f"_on_{kind}")(ts, data)
            if ts >= self.start_ts:
                for message_kind, message in self._out:
                    yield ts, node_id, message_kind, message
            self._out.clear()

    def _next_tick(self, after: float, every: float) -> float:
        return (math.floor(after / every) + 1) * every

    # --- the day ------------------------------------------------------------------------

    def _on_day(self, ts: float, day: dt.date) -> None:
        if self.counters.day != day.isoformat():
            self.counters = _Counters(day.isoformat(), self.layout)
            self._changed(ts)
        self._push(
            _local_ts(day + dt.timedelta(days=1), 0, self.tz),
            DAY,
            "day",
            day + dt.timedelta(days=1),
        )
        hours = self.layout.hours[day.weekday()]
        if hours is None:
            return
        self._push(_local_ts(day, hours[0], self.tz), OPEN, "open", None)
        closing_ts = self.closing_ts = _local_ts(day, hours[1], self.tz)
        rng = random.Random(f"{self.seed}:{self.node.index}:{day.isoformat()}")
        for arrival in _arrivals(self.node, day, rng):
            size = _choose(rng, GROUP_SIZES)
            persona = "group" if size > 1 else _choose(rng, SOLO_PERSONAS)
            lags = [0.0]
            for _ in range(size - 1):  # a group walks in one after the other
                lags.append(lags[-1] + rng.uniform(0.5, 1.5))
            segments, leave, display = _plan_visit(
                self.layout, persona, arrival, closing_ts - lags[-1], rng
            )
            for lag in lags:
                self.tracks += 1
                person = _Person(
                    track=self.tracks,
                    entered=arrival + lag,
                    left=leave + lag,
                    persona=persona,
                    group_size=size,
                    segments=[(z, a + lag, b + lag) for z, a, b in segments],
                    display=None if display is None else (display[0] + lag, *display[1:]),
                )
                self._schedule(person, rng)

    def _schedule(self, person: _Person, rng: random.Random) -> None:
        self._push(person.entered, ENTER, "enter", person)
        for zone, since, until in person.segments:
            self._push(since, ZONE_IN, "zone_in", zone)
            self._push(until, ZONE_OUT, "zone_out", zone)
            for shelf in self.layout.shelves:
                if shelf.zone != zone or rng.random() >= BEHAVIOUR[person.persona][1]:
                    continue
                for _ in range(1 if rng.random() < 0.8 else 2):
                    product = rng.choice(shelf.products)[0]
                    at = rng.uniform(since, until)
                    self._push(at, SHELF, "shelf", (person, shelf, product, "taken"))
                    if rng.random() < 0.12:
                        back = rng.uniform(at, until)
                        self._push(back, SHELF, "shelf", (person, shelf, product, "returned"))
        if person.display is not None:
            self._push(person.display[0], DISPLAY, "display", person)
        self._push(person.left, EXIT, "exit", person)

    # --- what people do -----------------------------------------------------------------

    def _event(self, ts: float, event_type: str, fields: dict[str, Any]) -> None:
        self.seq += 1
        message = {
            "schema": 1,
            "stream": self.stream,
            "seq": self.seq,
            "ts": round(ts, 3),
            "type": event_type,
        }
        message.update(fields)
        self._out.append(("event", message))
        self._changed(ts)

    def _changed(self, ts: float) -> None:
        """Something a state message shows changed: publish state soon, if asked to."""
        gap = self.state_min_interval_s
        if gap is None or ts < self.start_ts:
            return
        self.state_dirty = True
        if not self.state_pending:
            self.state_pending = True
            self._push(max(ts, self.last_state + gap), STATE, "state_change", None)

    def _on_enter(self, ts: float, person: _Person) -> None:
        self.inside.add(person.track)
        self.counters.lines[DOOR[0]]["in"] += 1
        self._event(ts, "crossing", {"line": DOOR[0], "direction": "in", "track": person.track})

    def _on_zone_in(self, ts: float, zone: str) -> None:
        self.zone_people[zone] += 1
        self._changed(ts)

    def _on_zone_out(self, ts: float, zone: str) -> None:
        self.zone_people[zone] -= 1
        self._changed(ts)

    def _on_display(self, ts: float, person: _Person) -> None:
        display = self.layout.display
        assert display is not None
        assert person.display is not None
        _, duration, looked, attention = person.display
        local = dt.datetime.fromtimestamp(ts, self.tz)
        hour = local.hour + local.minute / 60
        offer = [name for since, name in display.offers if since <= hour][-1]
        counts = self.counters.impressions[display.id]
        counts["passers"] += 1
        counts["impressions"] += int(looked)
        self._event(
            ts,
            "impression",
            {
                "display": display.id,
                "track": person.track,
                "duration_s": round(duration, 1),
                "looked": looked,
                "attention_s": attention,
                "offer": offer,
                "mood": None,
            },
        )

    def _level(self, shelf: ShelfSpec) -> float:
        return round(self.units[shelf.id] / shelf.units, 3)

    def _status(self, shelf: ShelfSpec) -> str:
        level = self._level(shelf)
        return "empty" if level == 0 else "low" if level <= LOW_STOCK else "ok"

    def _on_shelf(self, ts: float, action: tuple[_Person, ShelfSpec, str, str]) -> None:
        person, shelf, product, change = action
        status_before = self._status(shelf)
        if change == "taken":
            if self.units[shelf.id] == 0:
                return  # nothing left to take
            self.units[shelf.id] -= 1
            person.taken.append(product)
        else:
            if person.returned.count(product) >= person.taken.count(product):
                return  # put back only what was taken (the take may have found the shelf empty)
            # A shelf refilled meanwhile stays full: the item goes back to the stock room.
            self.units[shelf.id] = min(shelf.units, self.units[shelf.id] + 1)
            person.returned.append(product)
        self.counters.shelf_moves[shelf.id][change] += 1
        level = self._level(shelf)
        self._event(
            ts,
            "shelf",
            {"shelf": shelf.id, "change": change, "level": level, "product": product,
             "track": person.track},
        )  # fmt: skip
        status = self._status(shelf)
        if status in (status_before, "ok"):
            return
        self._event(
            ts,
            "shelf",
            {"shelf": shelf.id, "change": status, "level": level, "product": None, "track": None},
        )
        if shelf.id not in self.restock_due:  # staff refill it a while later, if still open
            refill = ts + self.stock_rng.uniform(900, 2700)
            if refill < self.closing_ts:
                self.restock_due.add(shelf.id)
                self._push(refill, RESTOCK, "restock", shelf)

    def _on_restock(self, ts: float, shelf: ShelfSpec) -> None:
        self.restock_due.discard(shelf.id)
        if self.units[shelf.id] == shelf.units:
            return
        self.units[shelf.id] = shelf.units
        self._event(
            ts, "shelf", {"shelf": shelf.id, "change": "restocked", "level": 1.0, "product": None,
                          "track": None}
        )  # fmt: skip

    def _on_open(self, ts: float, _data: None) -> None:
        for shelf in self.layout.shelves:  # the morning fill
            self._on_restock(ts, shelf)

    def _on_exit(self, ts: float, person: _Person) -> None:
        if person.track not in self.inside:
            raise AssertionError(f"track {person.track} leaves without having entered")
        self.inside.discard(person.track)
        counters = self.counters
        counters.lines[DOOR[0]]["out"] += 1
        self._event(ts, "crossing", {"line": DOOR[0], "direction": "out", "track": person.track})
        dwell: dict[str, float] = {}
        path: list[str] = []
        for zone, since, until in person.segments:
            dwell[zone] = dwell.get(zone, 0.0) + (until - since)
            if not path or path[-1] != zone:
                path.append(zone)
        dwell = {zone: round(seconds, 1) for zone, seconds in dwell.items()}
        counters.visits += 1
        counters.personas[person.persona] += 1
        for zone, seconds in dwell.items():
            counters.dwell[zone].add(seconds)
        fields: dict[str, Any] = {
            "track": person.track,
            "started": round(person.entered, 3),
            "duration_s": round(ts - person.entered, 1),
            "zones": dwell,
            "path": path[:64],
            "crossings": [
                {"line": DOOR[0], "direction": "in"},
                {"line": DOOR[0], "direction": "out"},
            ],
            "group_size": person.group_size,
            "persona": person.persona,
        }
        if self.layout.shelves:
            fields["cart"] = {"taken": person.taken[:64], "returned": person.returned[:64]}
        self._event(ts, "visit", fields)

    # --- what the node publishes --------------------------------------------------------

    def _state(self, ts: float) -> dict[str, Any]:
        self.last_state, self.state_dirty = ts, False
        message: dict[str, Any] = {
            "schema": 1,
            "ts": round(ts, 3),
            "day": self.counters.day,
            "occupancy": {"total": len(self.inside), "zones": dict(self.zone_people)},
            "counters": self.counters.to_contract(),
        }
        if self.layout.shelves:
            message["stock"] = {
                shelf.id: {
                    "level": self._level(shelf),
                    "status": self._status(shelf),
                    **self.counters.shelf_moves[shelf.id],
                }
                for shelf in self.layout.shelves
            }
        message["last_seq"] = self.seq
        return message

    def _health(self, ts: float) -> dict[str, Any]:
        rng = self.rng
        busy = bool(self.inside)
        fps = round(rng.uniform(9.6, 10.0), 2)
        self.skipped_frames += int(self.health_every_s * fps * (0.2 if busy else 0.9))
        return {
            "schema": 1,
            "ts": round(ts, 3),
            "uptime_s": round(ts - self.start_ts, 1),
            "fps": fps,
            "inference_ms": round(rng.uniform(8.5, 11.5), 2),
            "skipped_frames": min(self.skipped_frames, 10_000_000),
            "camera": "ok",
            "queue": {"depth": 0, "oldest_age_s": 0.0, "dropped": 0, "bytes": 0},
            "cpu_temp_c": round(rng.uniform(55, 62) if busy else rng.uniform(47, 52), 1),
            "cpu_percent": round(rng.uniform(90, 140) if busy else rng.uniform(20, 40), 1),
            "rss_mb": round(rng.uniform(170, 185), 1),
            "sw_version": __version__,
            "model": MODEL_NAME,
            "threads": 2,
            "problems": [],
        }

    def _on_start(self, ts: float, _data: None) -> None:
        self._out.append(("description", self.node.description(ts)))
        self._out.append(("state", self._state(ts)))
        self._out.append(("health", self._health(ts)))
        self._push(self._next_tick(ts, self.state_every_s), STATE, "state", None)
        self._push(self._next_tick(ts, self.health_every_s), HEALTH, "health", None)

    def _on_state(self, ts: float, _data: None) -> None:
        self._out.append(("state", self._state(ts)))
        self._push(ts + self.state_every_s, STATE, "state", None)

    def _on_state_change(self, ts: float, _data: None) -> None:
        self.state_pending = False
        if not self.state_dirty:
            return  # a periodic state has said it all
        assert self.state_min_interval_s is not None
        due = self.last_state + self.state_min_interval_s
        if ts < due:  # a periodic state came in between: not again so soon
            self.state_pending = True
            self._push(due, STATE, "state_change", None)
            return
        self._out.append(("state", self._state(ts)))

    def _on_health(self, ts: float, _data: None) -> None:
        self._out.append(("health", self._health(ts)))
        self._push(ts + self.health_every_s, HEALTH, "health", None)


# --- live mode: publish to a broker ----------------------------------------------------------


class BrokerError(RuntimeError):
    """The broker cannot be reached or refused a simulated node."""


def parse_start(text: str | None, timezone: str) -> float:
    """`--start`: an ISO date or date-time in the nodes' timezone (None: now)."""
    if not text:
        return time.time()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--start: {text!r} is not an ISO date or date-time (e.g. 2026-03-06T11:30)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.timestamp()


class _NodeClient:
    """One simulated node's MQTT connection: availability with Last Will, retained messages."""

    def __init__(self, sim: LiveSimulation, node_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.sim = sim
        self.node_id = node_id
        self.base = f"{sim.topic_root}/{node_id}"
        self.retained: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.refused: str | None = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"storefront-{node_id}", clean_session=True
        )
        client.will_set(f"{self.base}/availability", b"offline", qos=1, retain=True)
        if sim.username is not None:
            client.username_pw_set(sim.username, sim.password)
        client.reconnect_delay_set(1, 30)
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = lambda *_: self.connected.clear()
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self.client = client

    def start(self) -> None:
        self.client.connect_async(self.sim.host, self.sim.port, self.sim.keepalive_s)
        self.client.loop_start()

    def _on_connect(
        self, client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            return
        client.subscribe([(f"{self.base}/command", 1), ("homeassistant/status", 1)])

    def _on_subscribe(self, client: Any, *_args: Any) -> None:
        # Online once subscribed, as the real node's link: a command sent at once is not lost.
        client.publish(f"{self.base}/availability", b"online", qos=1, retain=True)
        self._republish(client)
        self.connected.set()

    def _republish(self, client: Any) -> None:
        with self.lock:
            retained = dict(self.retained)
        for kind, body in retained.items():
            client.publish(f"{self.base}/{kind}", body, qos=1, retain=True)

    def _on_message(self, client: Any, _userdata: Any, message: Any) -> None:
        if message.topic == "homeassistant/status":
            if message.payload == b"online":
                self._republish(client)
            return
        from .link import parse_command

        command = parse_command(message.payload)
        if isinstance(command, str):
            return
        reply = {
            "schema": 1,
            "id": command["id"],
            "command": command["command"],
            "ok": False,
            "error": "a simulated node does not carry out commands",
            "ts": round(self.sim.sim_now(), 3),
        }
        client.publish(f"{self.base}/reply", _dumps(reply), qos=1)

    def publish(self, kind: str, message: dict[str, Any]) -> None:
        body = _dumps(message)
        if kind == "event":
            self.client.publish(topic(self.sim.topic_root, self.node_id, kind, message), body, 1)
            return
        with self.lock:
            self.retained[kind] = body
        self.client.publish(f"{self.base}/{kind}", body, qos=1, retain=True)

    def stop(self) -> None:
        """An orderly goodbye: retained 'offline', then disconnect."""
        if self.connected.is_set():
            info = self.client.publish(f"{self.base}/availability", b"offline", 1, retain=True)
            info.wait_for_publish(timeout=5.0)
        self.client.disconnect()
        self.client.loop_stop()


def _dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode()


class LiveSimulation:
    """Publishes a `Store` to a broker as its nodes would, in real time or `speed` times faster.

    With `speed` above 1 the simulated clock runs ahead of the wall clock: message timestamps
    are in the future. Messages are kept in memory while the broker is away (no on-disk queue).
    """

    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 1883,
        topic_root: str = DEFAULT_TOPIC_ROOT,
        *,
        username: str | None = None,
        password: str | None = None,
        keepalive_s: int = 30,
    ) -> None:
        self.store = store
        self.host = host
        self.port = port
        self.topic_root = topic_root
        self.username = username
        self.password = password
        self.keepalive_s = keepalive_s
        self._sim0 = time.time()
        self._wall0 = time.monotonic()
        self._speed = 1.0

    def sim_now(self) -> float:
        return self._sim0 + (time.monotonic() - self._wall0) * self._speed

    def run(
        self,
        *,
        speed: float = 1.0,
        start_ts: float | None = None,
        seconds: float | None = None,
        stop: threading.Event | None = None,
        connect_timeout_s: float = 15.0,
    ) -> dict[str, int]:
        """Publish until `seconds` of wall-clock time have passed or `stop` is set.

        Returns how many messages of each kind were published.
        """
        if speed <= 0:
            raise ValueError(f"speed: {speed} must be positive")
        stop = stop or threading.Event()
        start = time.time() if start_ts is None else start_ts
        end = None if not seconds else start + seconds * speed
        clients = {node_id: _NodeClient(self, node_id) for node_id in self.store.node_ids}
        counts: dict[str, int] = {}
        try:
            self._connect(clients, connect_timeout_s, stop)
            self._sim0, self._wall0, self._speed = start, time.monotonic(), speed
            messages = self.store.messages(
                start,
                end,
                state_every_s=60.0,
                health_every_s=max(30.0, 5.0 * speed),
                state_min_interval_s=max(1.0, 0.5 * speed),
            )
            for node_id, kind, message in messages:
                delay = self._wall0 + (message["ts"] - start) / speed - time.monotonic()
                if (delay > 0 and stop.wait(delay)) or stop.is_set():
                    break
                clients[node_id].publish(kind, message)
                counts[kind] = counts.get(kind, 0) + 1
        finally:
            for client in clients.values():
                client.stop()
        return counts

    def _connect(
        self, clients: dict[str, _NodeClient], timeout_s: float, stop: threading.Event
    ) -> None:
        for client in clients.values():
            client.start()
        deadline = time.monotonic() + timeout_s
        for client in clients.values():
            while not client.connected.wait(0.05):
                if client.refused is not None:
                    raise BrokerError(
                        f"the broker {self.host}:{self.port} refused {client.node_id}: "
                        f"{client.refused}"
                    )
                if stop.is_set():
                    return
                if time.monotonic() > deadline:
                    raise BrokerError(
                        f"cannot reach the MQTT broker at {self.host}:{self.port} "
                        f"within {timeout_s:.0f} s"
                    )
