"""Store traffic up to now (two weeks for the analyst app), written the way Home Assistant
writes it.

The traffic comes from the project's one synthetic generator (`storefront_dev.synthetic`), its
messages built by the node's own message module; each is validated against contract.json,
`PointMaker` turns it into line protocol and `write_lines` sends it to a real InfluxDB. Every
message is also kept as a plain record, so a test computes the numbers it expects from what
was written, never from the app or the dashboard.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp
import requests

from custom_components.storefront.contract import validate
from custom_components.storefront.influx import InfluxTarget, write_lines
from custom_components.storefront.points import PointMaker
from custom_components.storefront.policy import hour_bucket
from storefront_dev import synthetic

TZ = "Europe/Berlin"
DAYS = 16  # today and the 15 days before: a week-over-week comparison for every recent day
OPEN_HOURS = range(8, 20)
STATE_EVERY = timedelta(minutes=10)
HEALTH_EVERY = timedelta(hours=1)
PERSONAS = ("passer_by", "browser", "focused_buyer", "lingerer")
OFFERS = ("winter_sale", "coffee_club")
OFFER_TAGS = {"winter_sale": ("coats", "evening"), "coffee_club": ("coffee", "morning")}
BATCH = 5000


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
    hours: tuple[float, float] = (OPEN_HOURS.start, OPEN_HOURS.stop)  # open daily, local hours
    outage: tuple[float, float] | None = None  # (hours before now it began, minutes it lasted)
    present_now: bool = False  # a shopper is sure to be in view at the end of the data


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
    NodeSpec("Main Street", "sim", ("window",), "door", (20, 30), personas=True, synthetic=True),
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


@dataclass(frozen=True)
class HealthReport:
    store: str
    node: str
    synthetic: bool
    ts: float


@dataclass(frozen=True)
class Availability:
    store: str
    node: str
    synthetic: bool
    online: bool
    ts: float


class Scoped(Protocol):
    """A record of one node of one store."""

    @property
    def store(self) -> str: ...
    @property
    def node(self) -> str: ...
    @property
    def synthetic(self) -> bool: ...


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
    health: list[HealthReport] = field(default_factory=list)
    availability: list[Availability] = field(default_factory=list)
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
            r for r in scoped(records, stores=stores, synthetic=synthetic) if start <= r.ts < end
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


def scoped[R: Scoped](
    records: Iterable[R],
    *,
    stores: Sequence[str] = (),
    nodes: Sequence[str] = (),
    synthetic: bool = True,
) -> list[R]:
    """The records of the stores and nodes picked (none picked: all), simulated nodes' too
    unless `synthetic` is False."""
    return [
        r
        for r in records
        if (not stores or r.store in stores)
        and (not nodes or r.node in nodes)
        and (synthetic or not r.synthetic)
    ]


def nearest_rank(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile (the definition InfluxQL's percentile() uses)."""
    ordered = sorted(values)
    index = int(len(ordered) * percent / 100 + 0.5) - 1
    return ordered[min(max(index, 0), len(ordered) - 1)]


def _sim_node(index: int, spec: NodeSpec, tz: str, now: float) -> synthetic.SimNode:
    """The generator's node for a spec: its zones, line, shelf, display, daily hours, outage
    and shopper in view at `now`."""
    zones = tuple(
        synthetic.ZoneSpec(z, z, synthetic.rect(0.25 * i, 0.3, 0.25 * (i + 1), 1.0), 60)
        for i, z in enumerate(spec.zones)
    )
    display = None
    if spec.display:
        area = synthetic.rect(0.0, 0.2, 0.3, 0.45)
        offers = tuple(zip((0.0, 14.0), OFFERS, strict=True))
        display = synthetic.DisplaySpec(spec.display, spec.display, area, offers, 0.8, 0.4)
    shelves = ()
    if spec.shelf:
        area = synthetic.rect(0.75, 0.35, 0.95, 0.55)
        products = (("espresso", "Espresso beans"),)
        shelves = (synthetic.ShelfSpec(spec.shelf, spec.shelf, spec.zones[-1], area, products, 40),)
    low, high = spec.visitors_per_hour
    opening, closing = spec.hours
    outages: tuple[tuple[float, float], ...] = ()
    if spec.outage:
        began = now - spec.outage[0] * 3600
        outages = ((began, began + spec.outage[1] * 60),)
    layout = synthetic.Layout(
        kind=spec.node,
        title=spec.node,
        visitors_per_day=(low + high) / 2 * (closing - opening),
        capacity=30,
        hours=(spec.hours,) * 7,
        peaks=synthetic.LAYOUTS[0].peaks,
        zones=zones,
        display=display,
        shelves=shelves,
        line=spec.line,
    )
    return synthetic.SimNode(
        node_id=spec.node,
        index=index,
        layout=layout,
        scale=1.0,
        timezone=tz,
        synthetic=spec.synthetic,
        personas=spec.personas,
        title=f"{spec.node} camera",
        outages=outages,
        present_at=(now,) if spec.present_now else (),
    )


def build(
    now: datetime,
    seed: int = 7,
    nodes: Sequence[NodeSpec] = NODES,
    *,
    timezone: str = TZ,
    since: datetime | None = None,
    state_every: timedelta = STATE_EVERY,
    health_every: timedelta = HEALTH_EVERY,
) -> Dataset:
    """Traffic from `since` (default: local midnight DAYS - 1 days ago) up to `now` (not
    beyond), for `nodes`, from the synthetic generator: every message is validated by the
    contract, becomes points through `PointMaker` and is kept as a record. Each node is online
    from `since` on."""
    tz = ZoneInfo(timezone)
    now = now.astimezone(tz)
    data = Dataset(tz=tz, now=now)
    makers: dict[str, PointMaker] = {}
    first_day = datetime.combine(data.today - timedelta(days=DAYS - 1), time(), tz)
    first = (since or first_day).timestamp()
    for index, spec in enumerate(nodes, start=1):
        maker = makers.setdefault(spec.store, PointMaker(spec.store))
        node = _sim_node(index, spec, timezone, now.timestamp())
        messages = synthetic.Store.of([node], seed=seed).messages(
            first,
            now.timestamp(),
            state_every_s=state_every.total_seconds(),
            health_every_s=health_every.total_seconds(),
        )
        for _node, sent, message in messages:
            _send(data, maker, spec, sent, message)
            if sent == "description":  # described at `since`, and online (marked synthetic)
                _send(data, maker, spec, "availability", {"ts": first, "online": True})
    for maker in makers.values():
        data.lines += maker.rollup()  # the last hourly slots, as the export does on stop
    return data


def _send(
    data: Dataset, maker: PointMaker, spec: NodeSpec, sent: str, message: dict[str, Any]
) -> None:
    """What Home Assistant does with a message: validate it, write its points; and keep it."""
    kind = f"event_{message['type']}" if sent == "event" else sent
    if kind == "availability":
        validate(kind, "online" if message["online"] else "offline")
        data.lines += maker.availability(spec.node, message["online"], message["ts"])
    else:
        validate(kind, message)
        data.lines += getattr(maker, sent)(spec.node, message)
    if kind == "event_impression" and message.get("offer"):
        data.lines += offer_points(maker, spec.node, message, data.tz)
    _record(data, spec, kind, message)


def offer_points(maker: PointMaker, node: str, message: dict, tz: ZoneInfo) -> list[str]:
    """What Home Assistant writes for an impression credited to the offer on screen."""
    hour = datetime.fromtimestamp(message["ts"], tz).hour
    return maker.offer_impression(
        node,
        message,
        message["offer"],
        OFFER_TAGS[message["offer"]],
        persona=impression_persona(message["looked"]),
        part_of_day=hour_bucket(hour),
        engaged=message["looked"],
    )


def impression_persona(looked: bool) -> str:
    """The leading persona the dataset gives an impression's audience."""
    return "browser" if looked else "passer_by"


def _record(data: Dataset, spec: NodeSpec, kind: str, message: dict[str, Any]) -> None:
    """Keep what a message says as a record, for the tests' own arithmetic."""
    common = {"store": spec.store, "node": spec.node, "synthetic": spec.synthetic}
    ts = message["ts"]
    if kind == "event_crossing":
        data.crossings.append(
            Crossing(**common, line=message["line"], direction=message["direction"], ts=ts)
        )
    elif kind == "event_visit":
        fields = {k: message[k] for k in ("duration_s", "zones", "persona", "group_size")}
        data.visits.append(Visit(**common, ts=ts, **fields))
    elif kind == "event_shelf" and message["change"] in ("taken", "returned"):
        fields = {k: message[k] for k in ("shelf", "product", "change")}
        data.shelf_changes.append(ShelfChange(**common, ts=ts, **fields))
    elif kind == "event_impression":
        keys = ("display", "offer", "looked", "attention_s", "duration_s")
        data.impressions.append(Impression(**common, ts=ts, **{k: message[k] for k in keys}))
    elif kind == "health":
        data.health.append(HealthReport(**common, ts=ts))
    elif kind == "availability":
        data.availability.append(Availability(**common, online=message["online"], ts=ts))
    elif kind == "state":
        occupancy = message["occupancy"]
        data.occupancy.append(
            Occupancy(**common, ts=ts, total=occupancy["total"], zones=occupancy["zones"])
        )
        for shelf, stock in message.get("stock", {}).items():
            level, status = stock["level"], stock["status"]
            data.stock.append(
                StockReading(**common, shelf=shelf, level=level, status=status, ts=ts)
            )


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
