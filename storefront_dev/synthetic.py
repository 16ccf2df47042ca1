"""The one synthetic-data generator: made-up shop traffic, seeded, as a camera node reports it.

Everything synthetic in the project comes from here: the live store simulator
(`storefront-edge simulate`, `simulator.py`), the demo's history (`demo_history.py`) and the
benchmarks. It generates at the level of *events* (people entering, moving between zones,
passing a display, taking from a shelf, leaving), not of tracks fed through the real analytics:
turning tracks into events is what the node's tracker and analytics do on real footage, and
their accuracy is measured there (`make accuracy`); here what matters is a plausible shop day,
fast enough for 90 days x 10 nodes. What a node *does* with events is not re-implemented: the
daily counters and their dwell quantiles are the node's `DailyCounters`, and every message is
built by the node's `edge_node.messages`.

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

`Store(nodes=10, seed=1).messages(start_ts, end_ts)` yields `(node_id, kind, message)` in time
order, kind one of "description", "state", "health", "event". The same seed gives the same
messages; a run starting later on the same day gives the same events with the same `seq` (the
node's day is simulated from local midnight, and only what happens from `start_ts` on is
yielded).

Nodes a caller describes (`Store.of`) may also have link outages and moments at which a
shopper is sure to be in view. During an outage a node publishes nothing: it goes "offline"
(kind "availability", `{"ts", "online"}`: the broker's Last Will, then the node's "online"
when its link is back), keeps counting, and its events wait in its queue; they come when the
link is back, with their own time, followed by the node's state and a health report showing the
queue it had to drain.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import heapq
import json
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from edge_node import messages
from edge_node.config import LineConfig, ZoneConfig
from edge_node.counters import DailyCounters, ImpressionFigures
from edge_node.outbox import QueueStats

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


def rect(x1: float, y1: float, x2: float, y2: float) -> Polygon:
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
    line: str = "door"  # the entrance line's id

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
            ZoneSpec("window", "Window", rect(0.0, 0.3, 0.35, 1.0), 20, 0.6),
            ZoneSpec("aisle", "Aisle", rect(0.35, 0.3, 0.7, 1.0), 45, 0.8),
            ZoneSpec("counter", "Counter", rect(0.7, 0.3, 1.0, 1.0), 90, 0.6, capacity=4),
        ),
        display=DisplaySpec(
            "window_display",
            "Window display",
            rect(0.0, 0.2, 0.3, 0.45),
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
            ZoneSpec("queue", "Queue", rect(0.0, 0.3, 0.3, 1.0), 60, 0.6, capacity=8),
            ZoneSpec("seating", "Seating", rect(0.3, 0.3, 0.7, 1.0), 900, 0.5),
            ZoneSpec("counter", "Counter", rect(0.7, 0.3, 1.0, 1.0), 40, 0.5, capacity=4),
        ),
        display=DisplaySpec(
            "menu_board",
            "Menu board",
            rect(0.0, 0.2, 0.4, 0.4),
            ((0, "breakfast_deal"), (11, "lunch_menu"), (14.5, "coffee_club")),
            pass_share=0.8,
            look_share=0.5,
        ),
        shelves=(
            ShelfSpec(
                "pastry",
                "Pastry shelf",
                "counter",
                rect(0.75, 0.35, 0.95, 0.55),
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
            ZoneSpec("produce", "Produce", rect(0.0, 0.3, 0.3, 1.0), 60, 0.7),
            ZoneSpec("aisles", "Aisles", rect(0.3, 0.3, 0.7, 1.0), 120, 0.8),
            ZoneSpec("checkout", "Checkout", rect(0.7, 0.3, 1.0, 1.0), 75, 0.5, capacity=6),
        ),
        shelves=(
            ShelfSpec(
                "coffee",
                "Coffee shelf",
                "aisles",
                rect(0.35, 0.35, 0.65, 0.5),
                (("espresso", "Espresso beans"), ("filter_coffee", "Filter coffee")),
                units=48,
            ),
            ShelfSpec(
                "snacks",
                "Snack rack",
                "checkout",
                rect(0.75, 0.35, 0.95, 0.5),
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


def _zone(item: ZoneSpec | DisplaySpec) -> ZoneConfig:
    capacity = item.capacity if isinstance(item, ZoneSpec) else None
    return ZoneConfig(id=item.id, name=item.name, polygon=list(item.polygon), capacity=capacity)


@dataclass(frozen=True)
class SimNode:
    """One virtual node: an id, a layout and how busy its shop is."""

    node_id: str
    index: int
    layout: Layout
    scale: float  # traffic relative to the layout's typical day
    timezone: str
    # Test data sets also simulate nodes that stand for real ones; the store simulator's never do.
    synthetic: bool = True
    personas: bool = True  # the node classifies visits into personas
    title: str | None = None  # the description's name; default "Synthetic <layout> <n>"
    outages: tuple[tuple[float, float], ...] = ()  # (from, until): the node's link is down
    # Moments at which at least one shopper is in view (within opening hours): someone walks
    # in a few minutes before each and stays past it.
    present_at: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        return self.title or f"Synthetic {self.layout.title} {self.index}"

    @functools.cached_property
    def _areas(self) -> tuple[list[ZoneConfig], list[LineConfig], list[ZoneConfig]]:
        _, door_name, start, end = DOOR
        door = LineConfig(id=self.layout.line, name=door_name, start=start, end=end, entrance=True)
        display = self.layout.display
        return (
            [_zone(zone) for zone in self.layout.zones],
            [door],
            [] if display is None else [_zone(display)],
        )

    def description(self, ts: float) -> dict[str, Any]:
        zones, lines, displays = self._areas
        return messages.description(
            node_id=self.node_id,
            name=self.name,
            ts=ts,
            model=messages.Model(MODEL_NAME, MODEL_SHA256),
            hw_version="simulated",
            timezone=self.timezone,
            capacity=self.layout.capacity,
            zones=zones,
            lines=lines,
            displays=displays,
            shelves=[
                messages.Shelf(shelf.id, shelf.name, shelf.polygon, shelf.products)
                for shelf in self.layout.shelves
            ],
            features=messages.Features(personas=self.personas, attention=True),
            synthetic=self.synthetic,
        )


@dataclass(frozen=True)
class Schedule:
    """When a simulated node publishes: state and health every so often, and (if set) state
    after a change, at most every `state_min_interval_s`, as a real node does."""

    state_every_s: float = 60.0
    health_every_s: float = 30.0
    state_min_interval_s: float | None = None

    def __post_init__(self) -> None:
        if self.state_every_s <= 0 or self.health_every_s <= 0:
            raise ValueError("state_every_s and health_every_s must be positive")


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

    @classmethod
    def of(cls, nodes: list[SimNode], seed: int = 1) -> Store:
        """A store of nodes described by the caller (test data sets), deterministic in `seed`;
        each node's traffic depends on the seed and its `index`."""
        store = cls.__new__(cls)
        store.seed, store.nodes = seed, list(nodes)
        store.timezone = nodes[0].timezone if nodes else DEFAULT_TIMEZONE
        return store

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
        schedule = Schedule(state_every_s, health_every_s, state_min_interval_s)
        runs = self.runs(start_ts, end_ts, schedule)
        merged = heapq.merge(*(run.messages() for run in runs), key=itemgetter(0))
        for _ts, node_id, kind, message in merged:
            yield node_id, kind, message

    def runs(
        self, start_ts: float, end_ts: float | None, schedule: Schedule, *, numbered: bool = True
    ) -> list[NodeRun]:
        """One run per node. `numbered=False` leaves the events' stream and seq to the
        consumer (a live node's outbox): they come as kind "happening" and are not counted
        in `last_seq` until the consumer sets it."""
        if end_ts is not None and end_ts < start_ts:
            raise ValueError("end_ts is before start_ts")
        return [
            NodeRun(node, self.seed, start_ts, end_ts, schedule, numbered) for node in self.nodes
        ]


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
    leads: bool = True  # the first of a group: the shopping unit is counted with them


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
        first = rng.choice(shelf_zones) if shelf_zones else rng.choice(zones[:-1] or zones)
        return [first, layout.pay_zone] if first != layout.pay_zone else [first]
    if persona == "staff_like":
        return [rng.choice(zones) for _ in range(rng.randint(3, 6))]
    picked = sorted(rng.sample(range(len(zones)), rng.randint(1, len(zones))))
    path = [zones[i] for i in picked]
    if persona in ("browser", "group") and len(path) > 1 and rng.random() < 0.25:
        path.append(path[0])  # back to where they started
    return path


def _plan_visit(  # noqa: PLR0917 (one call site, in `NodeRun._arrive`)
    layout: Layout,
    persona: str,
    entered: float,
    closing_ts: float,
    rng: random.Random,
    stays_until: float = -math.inf,
) -> tuple[list[tuple[str, float, float]], float, tuple[float, float, bool, float] | None]:
    """Zones with their times, the moment of leaving, and the display pass (if any). A shopper
    who must still be in view at `stays_until` lingers in their last zone until after it."""
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
    if segments[-1][2] <= stays_until:
        zone_id, since, until = segments[-1]
        longer = stays_until - until + rng.uniform(60.0, 600.0)
        segments[-1] = (zone_id, since, until + longer)
        t += longer
    return segments, t, display


# --- one node's run -------------------------------------------------------------------------

# Order of things that happen at the same instant: a new day first, then the node's start, then
# people leaving zones, leaving, entering, entering zones, the rest, the link going down or
# coming back, and state and health last.
DAY, START, ZONE_OUT, EXIT, ENTER, ZONE_IN, DISPLAY, SHELF, OPEN, RESTOCK, LINK, STATE, HEALTH = (
    range(13)
)


class NodeRun:
    """Simulates one node from local midnight of the start day; yields from `start_ts` on."""

    def __init__(  # noqa: PLR0917 (one call site, in `Store.runs`)
        self,
        node: SimNode,
        seed: int,
        start_ts: float,
        end_ts: float | None,
        schedule: Schedule,
        numbered: bool,
    ) -> None:
        self.node = node
        self.numbered = numbered
        self.layout = node.layout
        self.seed = seed
        self.tz = ZoneInfo(node.timezone)
        self.start_ts = start_ts
        self.end_ts = end_ts
        self.state_every_s = schedule.state_every_s
        self.health_every_s = schedule.health_every_s
        self.state_min_interval_s = schedule.state_min_interval_s
        first_day = dt.datetime.fromtimestamp(start_ts, self.tz).date()
        # A run that begins on another day is a node with fresh storage: a new stream.
        key = f"{seed}:{node.node_id}:{first_day.isoformat()}"
        self.stream = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.rng = random.Random(f"{key}:health")  # drawn from only for what is published
        self.stock_rng = random.Random(f"{key}:stock")  # drawn from as the day goes by
        self.seq = 0
        self.tracks = 0
        self.counters = self._fresh_counters(first_day)
        self.inside: set[int] = set()
        self.zone_people = {zone.id: 0 for zone in self.layout.zones}
        # Personas of the shoppers in view (staff left out), as a node's provisional mix.
        self.live: dict[str | None, Counter[str]] = {None: Counter()}
        self.live |= {zone.id: Counter() for zone in self.layout.zones}
        self.units = {shelf.id: shelf.units for shelf in self.layout.shelves}
        self.restock_due: set[str] = set()
        self.closing_ts = -math.inf
        self.last_state = -math.inf
        self.state_pending = False  # a state after a change is scheduled
        self.state_dirty = False  # something changed since the last state
        self.skipped_frames = 0
        self.offline = False  # the link is down: events wait in `queued`, nothing is published
        self.queued: list[tuple[str, dict[str, Any]]] = []
        self._heap: list[tuple[float, int, int, str, Any]] = []
        self._pushed = 0
        self._out: list[tuple[str, dict[str, Any]]] = []
        self._push(_local_ts(first_day, 0, self.tz), DAY, "day", first_day)
        self._push(start_ts, START, "start", None)
        previous = -math.inf
        for down, up in node.outages:
            if not previous < down < up or down <= start_ts < up:
                raise ValueError(
                    f"{node.node_id}: outage {down}..{up} must end after it begins, after the "
                    "one before it, and not span the start of the run"
                )
            previous = up
            self._push(down, LINK, "link_down", None)
            self._push(up, LINK, "link_up", None)

    @property
    def _zone_ids(self) -> list[str]:
        return [zone.id for zone in self.layout.zones]

    def _fresh_counters(self, day: dt.date) -> DailyCounters:
        layout = self.layout
        return DailyCounters.fresh(
            day.isoformat(),
            [layout.line],
            self._zone_ids,
            personas=PERSONAS if self.node.personas else (),
            displays=[] if layout.display is None else [layout.display.id],
            shelves=[shelf.id for shelf in layout.shelves],
        )

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
        if self.counters.roll_over(day.isoformat(), [self.layout.line], self._zone_ids):
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
            self._arrive(arrival, rng)
        open_ts = _local_ts(day, hours[0], self.tz)
        for moment in self.node.present_at:
            # Drawn from a generator of its own: the rest of the day stays as it is.
            own = random.Random(f"{self.seed}:{self.node.index}:{moment}:present")
            arrival = moment - own.uniform(60.0, 300.0)
            if open_ts <= arrival and moment < closing_ts:
                self._arrive(arrival, own, stays_until=moment)

    def _arrive(self, arrival: float, rng: random.Random, stays_until: float = -math.inf) -> None:
        """A shopper, or a group, walks in at `arrival`: plan their visit and schedule it."""
        size = _choose(rng, GROUP_SIZES)
        persona = "group" if size > 1 else _choose(rng, SOLO_PERSONAS)
        lags = [0.0]
        for _ in range(size - 1):  # a group walks in one after the other
            lags.append(lags[-1] + rng.uniform(0.5, 1.5))
        segments, leave, display = _plan_visit(
            self.layout, persona, arrival, self.closing_ts - lags[-1], rng, stays_until
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
                leads=lag == lags[0],
            )
            self._schedule(person, rng)

    def _schedule(self, person: _Person, rng: random.Random) -> None:
        self._push(person.entered, ENTER, "enter", person)
        for zone, since, until in person.segments:
            self._push(since, ZONE_IN, "zone_in", (zone, person.persona))
            self._push(until, ZONE_OUT, "zone_out", (zone, person.persona))
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
        out = self.queued if self.offline else self._out
        if self.numbered:
            # Events before `start_ts` are numbered too: a later start continues the same seq.
            self.seq += 1
            self.counters.last_seq = self.seq
            message = messages.event(self.stream, self.seq, ts, event_type, fields)
            out.append(("event", message))
        elif ts >= self.start_ts:
            out.append(("happening", {"ts": ts, "type": event_type, "fields": fields}))
        self._changed(ts)

    def _changed(self, ts: float) -> None:
        """Something a state message shows changed: publish state soon, if asked to."""
        gap = self.state_min_interval_s
        if gap is None or ts < self.start_ts or self.offline:
            return
        self.state_dirty = True
        if not self.state_pending:
            self.state_pending = True
            self._push(max(ts, self.last_state + gap), STATE, "state_change", None)

    def _on_enter(self, ts: float, person: _Person) -> None:
        self.inside.add(person.track)
        self._in_view(None, person.persona, 1)
        self.counters.add_crossing(self.layout.line, "in")
        self._event(ts, "crossing", messages.crossing(self.layout.line, "in", person.track))

    def _in_view(self, zone: str | None, persona: str, change: int) -> None:
        if persona != "staff_like":
            self.live[zone][persona] += change

    def _on_zone_in(self, ts: float, data: tuple[str, str]) -> None:
        zone, persona = data
        self.zone_people[zone] += 1
        self._in_view(zone, persona, 1)
        self._changed(ts)

    def _on_zone_out(self, ts: float, data: tuple[str, str]) -> None:
        zone, persona = data
        self.zone_people[zone] -= 1
        self._in_view(zone, persona, -1)
        self._changed(ts)

    def _on_display(self, ts: float, person: _Person) -> None:
        display = self.layout.display
        assert display is not None
        assert person.display is not None
        _, duration, looked, attention = person.display
        local = dt.datetime.fromtimestamp(ts, self.tz)
        hour = local.hour + local.minute / 60
        offer = [name for since, name in display.offers if since <= hour][-1]
        self.counters.add_passer(display.id)
        self.counters.add_impression(
            display.id, ImpressionFigures(looked, attention, duration, None, offer)
        )
        fields = messages.impression(
            display=display.id,
            track=person.track,
            duration_s=duration,
            looked=looked,
            attention_s=attention,
            offer=offer,
        )
        self._event(ts, "impression", fields)

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
        self.counters.add_shelf_move(shelf.id, change)
        level = self._level(shelf)
        self._event(ts, "shelf", messages.shelf(shelf.id, change, level, product, person.track))
        status = self._status(shelf)
        if status in (status_before, "ok"):
            return
        self._event(ts, "shelf", messages.shelf(shelf.id, status, level, None, None))
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
        self._event(ts, "shelf", messages.shelf(shelf.id, "restocked", 1.0, None, None))

    def _on_open(self, ts: float, _data: None) -> None:
        for shelf in self.layout.shelves:  # the morning fill
            self._on_restock(ts, shelf)

    def _on_exit(self, ts: float, person: _Person) -> None:
        if person.track not in self.inside:
            raise AssertionError(f"track {person.track} leaves without having entered")
        self.inside.discard(person.track)
        self._in_view(None, person.persona, -1)
        line = self.layout.line
        self.counters.add_crossing(line, "out")
        self._event(ts, "crossing", messages.crossing(line, "out", person.track))
        dwell: dict[str, float] = {}
        path: list[str] = []
        for zone, since, until in person.segments:
            dwell[zone] = dwell.get(zone, 0.0) + (until - since)
            if not path or path[-1] != zone:
                path.append(zone)
        dwell = {zone: round(seconds, 1) for zone, seconds in dwell.items()}
        persona = person.persona if self.node.personas else None
        self.counters.add_visit(dwell)
        if persona is not None:
            self.counters.add_persona(persona, new_unit=person.leads, group_size=person.group_size)
        fields = messages.visit(
            track=person.track,
            started=person.entered,
            duration_s=ts - person.entered,
            zones=dwell,
            path=path,
            crossings=[(line, "in"), (line, "out")],
            group_size=person.group_size,
            persona=persona,
            cart=(person.taken, person.returned) if self.layout.shelves else None,
        )
        self._event(ts, "visit", fields)

    # --- what the node publishes --------------------------------------------------------

    def _state(self, ts: float) -> dict[str, Any]:
        self.last_state, self.state_dirty = ts, False
        stock = {
            shelf.id: messages.StockLevel(self._level(shelf), self._status(shelf))
            for shelf in self.layout.shelves
        }
        live = None
        if self.node.personas:

            def mix(counts: Counter[str]) -> dict[str, int]:
                return {persona: n for persona, n in sorted(counts.items()) if n}

            zones = {zone: mix(c) for zone, c in self.live.items() if zone is not None}
            live = {"total": mix(self.live[None]), "zones": zones}
        people = len(self.inside)
        # Numbered here, the run announces its stream in its state, as a real node does.
        stream = self.stream if self.numbered else None
        return messages.state(
            ts, self.counters, people, self.zone_people, stock, live=live, stream=stream
        )

    def _health(self, ts: float, queue: QueueStats | None = None) -> dict[str, Any]:
        rng = self.rng
        busy = bool(self.inside)
        fps = round(rng.uniform(9.6, 10.0), 2)
        self.skipped_frames += int(self.health_every_s * fps * (0.2 if busy else 0.9))
        return messages.health(
            ts=ts,
            uptime_s=ts - self.start_ts,
            fps=fps,
            inference_ms=round(rng.uniform(8.5, 11.5), 2),
            skipped_frames=min(self.skipped_frames, 10_000_000),
            camera="ok",
            queue=queue or QueueStats(depth=0, oldest_age_s=0.0, dropped=0, bytes=0),
            cpu_temp_c=round(rng.uniform(55, 62) if busy else rng.uniform(47, 52), 1),
            cpu_percent=round(rng.uniform(90, 140) if busy else rng.uniform(20, 40), 1),
            rss_mb=round(rng.uniform(170, 185), 1),
            model=MODEL_NAME,
            threads=2,
        )

    def _on_start(self, ts: float, _data: None) -> None:
        self._out.append(("description", self.node.description(ts)))
        self._out.append(("state", self._state(ts)))
        self._out.append(("health", self._health(ts)))
        self._push(self._next_tick(ts, self.state_every_s), STATE, "state", None)
        self._push(self._next_tick(ts, self.health_every_s), HEALTH, "health", None)

    def _on_state(self, ts: float, _data: None) -> None:
        if not self.offline:
            self._out.append(("state", self._state(ts)))
        self._push(ts + self.state_every_s, STATE, "state", None)

    def _on_state_change(self, ts: float, _data: None) -> None:
        self.state_pending = False
        if not self.state_dirty or self.offline:
            return  # a periodic state has said it all, or the link is down
        assert self.state_min_interval_s is not None
        due = self.last_state + self.state_min_interval_s
        if ts < due:  # a periodic state came in between: not again so soon
            self.state_pending = True
            self._push(due, STATE, "state_change", None)
            return
        self._out.append(("state", self._state(ts)))

    def _on_health(self, ts: float, _data: None) -> None:
        if not self.offline:
            self._out.append(("health", self._health(ts)))
        self._push(ts + self.health_every_s, HEALTH, "health", None)

    # --- the link -----------------------------------------------------------------------

    def _on_link_down(self, ts: float, _data: None) -> None:
        self.offline = True
        self._out.append(("availability", {"ts": ts, "online": False}))

    def _on_link_up(self, ts: float, _data: None) -> None:
        """Back online: the events that waited (with their own time), then state and health,
        the health showing the queue as the link found it."""
        self.offline = False
        self._out.append(("availability", {"ts": ts, "online": True}))
        waiting = self.queued
        queue = QueueStats(
            depth=len(waiting),
            oldest_age_s=round(ts - waiting[0][1]["ts"], 1) if waiting else 0.0,
            dropped=0,
            bytes=sum(len(json.dumps(message)) for _, message in waiting),
        )
        self._out += waiting
        self.queued = []
        self._out.append(("state", self._state(ts)))
        self._out.append(("health", self._health(ts, queue)))
