"""A day of store traffic up to now, written the way Home Assistant writes it.

Every message starts from the contract's own example (contract.json), is changed to fit the day
and is checked against the contract's schema; `PointMaker` turns it into line protocol and the
integration's `write_lines` sends it to a real InfluxDB. What was written is also kept as plain
records, so a test computes the numbers a panel must show from the data, never from the panel.

Two stores: "Main St. 3/5 (Old Town)" (a name full of regex characters, so a dashboard that
forgets to escape it shows nothing) with the nodes `entrance` and `floor` and a simulated node
`sim-1` (its points carry synthetic=true), and "Harbour" with one node. Every real node watches
zones, a counting line, a shelf and a window display, classifies personas, and had one short
link outage in the last hours (offline, then online again, with a queue to drain).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import requests

from custom_components.storefront.contract import validate
from custom_components.storefront.points import PointMaker
from tests.streamlit import dataset
from tests.streamlit.dataset import OFFERS, PERSONAS, example

MAIN = "Main St. 3/5 (Old Town)"
HARBOUR = "Harbour"
HOUR = 3600.0
DAY = 24 * HOUR
STATE_EVERY = 60.0  # the export samples occupancy once a minute
HEALTH_EVERY = 30.0  # a node's default health interval


@dataclass(frozen=True)
class NodeSpec:
    store: str
    node: str
    zones: tuple[str, ...]
    line: str
    visits_per_hour: int = 8
    shelf: str | None = "coffee"
    display: str | None = "window_display"
    personas: bool = True
    synthetic: bool = False
    outage: tuple[float, float] | None = None  # (hours before now it began, minutes it lasted)


NODES = (
    NodeSpec(MAIN, "entrance", ("window", "counter"), "door", outage=(5.0, 15.0)),
    NodeSpec(MAIN, "floor", ("aisle", "counter"), "stairs", visits_per_hour=6, outage=(4.0, 30.0)),
    NodeSpec(HARBOUR, "entrance", ("window",), "door", visits_per_hour=4, outage=(2.0, 10.0)),
    NodeSpec(
        MAIN,
        "sim-1",
        ("window",),
        "door",
        visits_per_hour=20,
        shelf=None,
        display=None,
        personas=False,
        synthetic=True,
    ),
)


@dataclass(frozen=True)
class Visit:
    enter: float
    leave: float
    zones: dict[str, float]
    persona: str | None


@dataclass
class NodeDay:
    """What one node sent during the day."""

    spec: NodeSpec
    visits: list[Visit] = field(default_factory=list)
    shelf_changes: list[tuple[float, int]] = field(default_factory=list)  # (ts, -1 taken / +1)
    impressions: list[tuple[float, bool]] = field(default_factory=list)  # (ts, looked)
    impression_offers: list[str] = field(default_factory=list)  # the offer of each impression
    states: list[tuple[float, int, int]] = field(default_factory=list)  # (ts, people, visits)
    health: list[float] = field(default_factory=list)
    availability: list[tuple[float, bool]] = field(default_factory=list)

    def crossings(self, direction: str, now: float) -> list[float]:
        """Times of the line crossings written so far (a shopper still inside has not left)."""
        times = [v.enter if direction == "in" else v.leave for v in self.visits]
        return [t for t in times if t <= now]


@dataclass
class StoreDay:
    now: float
    start: float
    nodes: list[NodeDay]
    lines: list[str]

    def pick(
        self, *, stores: Sequence[str] = (), nodes: Sequence[str] = (), synthetic: bool = True
    ) -> list[NodeDay]:
        return [
            n
            for n in self.nodes
            if (not stores or n.spec.store in stores)
            and (not nodes or n.spec.node in nodes)
            and (synthetic or not n.spec.synthetic)
        ]


def midnight(ts: float) -> float:
    """Start of the UTC day of `ts` (the nodes of this day run on UTC)."""
    day = datetime.fromtimestamp(ts, UTC).date()
    return datetime.combine(day, time(), UTC).timestamp()


def build(now: float, seed: int = 11) -> StoreDay:
    """24 hours of traffic for NODES, ending at `now` (nothing later)."""
    rng = random.Random(seed)
    start = now - DAY + STATE_EVERY
    day = StoreDay(now=now, start=start, nodes=[], lines=[])
    makers: dict[str, PointMaker] = {}
    for spec in NODES:
        maker = makers.setdefault(spec.store, PointMaker(spec.store))
        node = NodeDay(spec)
        day.nodes.append(node)
        day.lines += _node(day, node, maker, rng)
    return day


def _outage(spec: NodeSpec, now: float) -> tuple[float, float]:
    if spec.outage is None:
        return (math.inf, math.inf)
    began = now - spec.outage[0] * HOUR
    return began, began + spec.outage[1] * 60


def _node(day: StoreDay, node: NodeDay, maker: PointMaker, rng: random.Random) -> list[str]:
    spec = node.spec
    description = example("description")
    description.update(node_id=spec.node, name=f"{spec.node} camera", timezone="UTC")
    description["zones"] = [{**description["zones"][0], "id": z, "name": z} for z in spec.zones]
    description["lines"] = [{**description["lines"][0], "id": spec.line, "name": spec.line}]
    if spec.synthetic:
        description["synthetic"] = True
    lines = maker.description(spec.node, validate("description", description))
    lines += _availability(day, node, maker)
    events = _visits(day, node, rng)
    for seq, (ts, kind, fields) in enumerate(sorted(events, key=lambda e: e[0]), start=1):
        message = example(f"event_{kind}")
        message.update(seq=seq, ts=round(ts, 3), **fields)
        message = {k: v for k, v in message.items() if v is not None}  # left out, not null
        lines += maker.event(spec.node, validate(f"event_{kind}", message))
        if kind == "impression":
            lines += dataset.offer_points(maker, spec.node, message, ZoneInfo("UTC"))
    lines += _states(day, node, maker)
    lines += _health(day, node, maker, rng)
    return lines


def _availability(day: StoreDay, node: NodeDay, maker: PointMaker) -> list[str]:
    node.availability.append((day.start, True))
    began, ended = _outage(node.spec, day.now)
    if began < day.now:
        node.availability += [(began, False), (ended, True)]
    lines: list[str] = []
    for ts, online in node.availability:
        validate("availability", "online" if online else "offline")
        lines += maker.availability(node.spec.node, online, ts)
    return lines


def _visits(
    day: StoreDay, node: NodeDay, rng: random.Random
) -> list[tuple[float, str, dict[str, Any]]]:
    """Shoppers through the day, and one who came in five minutes ago and is still inside.
    Each brings its crossings, visit, shelf and display events (a visit's events once it is
    over). Events that happen during an outage wait on the node and keep their own time."""
    spec = node.spec
    events: list[tuple[float, str, dict[str, Any]]] = []
    arrivals: list[float] = []
    hour = day.start
    while hour < day.now:
        count = rng.randint(spec.visits_per_hour // 2, spec.visits_per_hour * 3 // 2)
        arrivals += [hour + rng.uniform(0, HOUR) for _ in range(count)]
        hour += HOUR
    arrivals = [t for t in arrivals if t < day.now - 10 * 60] + [day.now - 5 * 60]
    level = 1.0
    for enter in sorted(arrivals):
        duration = float(rng.randint(20, 900)) if enter < day.now - 10 * 60 else 900.0
        zones = {z: float(rng.randint(5, int(duration) // 2)) for z in spec.zones}
        zones = {z: s for z, s in zones.items() if rng.random() < 0.8}
        persona = rng.choice(PERSONAS) if spec.personas else None
        visit = Visit(enter, enter + duration, zones, persona)
        node.visits.append(visit)
        track = len(node.visits)
        crossing = {"line": spec.line, "track": track}
        events.append((visit.enter, "crossing", {**crossing, "direction": "in"}))
        if spec.display and rng.random() < 0.6:
            looked = rng.random() < 0.4
            at = enter + 2.0
            node.impressions.append((at, looked))
            impression = {"display": spec.display, "track": track, "looked": looked}
            impression |= {"duration_s": float(rng.randint(2, 20))}
            impression |= {"attention_s": float(rng.randint(1, 5)) if looked else None}
            offer = rng.choice(OFFERS)
            node.impression_offers.append(offer)
            events.append((at, "impression", impression | {"offer": offer}))
        if visit.leave > day.now:
            continue  # still inside
        events.append((visit.leave, "crossing", {**crossing, "direction": "out"}))
        fields: dict[str, Any] = {"track": track, "started": round(enter, 3)}
        fields |= {"duration_s": duration, "zones": zones, "path": list(zones)}
        fields |= {"persona": persona, "group_size": rng.choice((1, 1, 1, 2, 3))}
        fields |= {"crossings": [], "cart": {"taken": [], "returned": []}}
        events.append((visit.leave, "visit", fields))
        if spec.shelf and rng.random() < 0.3:
            change = "taken" if rng.random() < 0.8 else "returned"
            level = min(
                1.0, max(0.0, level + (-0.02 if change == "taken" else 0.02))
            )  # the event's
            at = enter + duration / 2
            node.shelf_changes.append((at, -1 if change == "taken" else 1))
            shelf = {"shelf": spec.shelf, "change": change, "level": round(level, 2)}
            events.append((at, "shelf", {**shelf, "product": "espresso", "track": track}))
    return events


def _ticks(day: StoreDay, every: float, spec: NodeSpec) -> list[float]:
    """Whole multiples of `every` within the day, leaving out the node's outage."""
    began, ended = _outage(spec, day.now)
    first = math.ceil(day.start / every) * every
    count = int((day.now - first) // every) + 1
    return [t for t in (first + i * every for i in range(count)) if not began <= t < ended]


def _states(day: StoreDay, node: NodeDay, maker: PointMaker) -> list[str]:
    """A retained state every minute: occupancy from the visits under way, counters since the
    node's (UTC) midnight, the shelf's stock."""
    spec = node.spec
    lines: list[str] = []
    for ts in _ticks(day, STATE_EVERY, spec):
        here = [v for v in node.visits if v.enter <= ts < v.leave]
        since = midnight(ts)
        done = [v for v in node.visits if since <= v.leave <= ts]
        entered = [v for v in node.visits if since <= v.enter <= ts]
        state = example("state")
        state.update(ts=ts, day=datetime.fromtimestamp(ts, UTC).date().isoformat(), last_seq=0)
        state["occupancy"] = {
            "total": len(here),
            "zones": {z: sum(1 for v in here if z in v.zones) for z in spec.zones},
        }
        counters: dict[str, Any] = {
            "lines": {spec.line: {"in": len(entered), "out": len(done)}},
            "visits": len(done),
        }
        if spec.personas:
            counters["personas"] = {p: sum(1 for v in done if v.persona == p) for p in PERSONAS}
        state["counters"] = counters
        state.pop("stock", None)
        if spec.shelf:
            moved = sum(d for t, d in node.shelf_changes if since <= t <= ts)
            level = round(min(1.0, max(0.0, 1.0 + 0.02 * moved)), 2)
            status = "ok" if level > 0.3 else "low" if level > 0 else "empty"
            state["stock"] = {spec.shelf: {"level": level, "status": status}}
        lines += maker.state(spec.node, validate("state", state))
        node.states.append((ts, len(here), len(done)))
    return lines


def _health(day: StoreDay, node: NodeDay, maker: PointMaker, rng: random.Random) -> list[str]:
    """A health report every 30 s. After the outage the camera reconnects for a minute and the
    upload queue drains for two."""
    spec = node.spec
    _, ended = _outage(spec, day.now)
    lines: list[str] = []
    for ts in _ticks(day, HEALTH_EVERY, spec):
        draining = ended <= ts < ended + 120
        health = example("health")
        health.update(
            ts=ts,
            uptime_s=ts - day.start,
            fps=round(rng.uniform(8.5, 10.0), 2),
            inference_ms=round(rng.uniform(25.0, 40.0), 1),
            cpu_temp_c=round(58 + 8 * math.sin(ts / 7200) + rng.uniform(-1, 1), 1),
            cpu_percent=round(rng.uniform(90.0, 160.0), 1),
            rss_mb=round(rng.uniform(170.0, 190.0), 1),
        )
        health["camera"] = "reconnecting" if ended <= ts < ended + 60 else "ok"
        health["queue"] = {"depth": 40 if draining else 0, "oldest_age_s": 0.0, "dropped": 0}
        health["problems"] = ["event queue draining after a link outage"] if draining else []
        lines += maker.health(spec.node, validate("health", health))
        node.health.append(ts)
    return lines


def write(url: str, database: str, lines: Sequence[str]) -> None:
    """(Re)create the database and write the lines through the integration's writer."""
    requests.post(
        f"{url}/query", params={"q": f'DROP DATABASE "{database}"'}, timeout=30
    ).raise_for_status()
    dataset.write(url, database, lines)
