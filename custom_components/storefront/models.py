"""Typed views of what a node publishes, each parsed once from a message that passed the contract.

The hub builds them as messages arrive; entities read their fields instead of digging through
dicts. Each view keeps the message it came from (`message`), which the InfluxDB export and
diagnostics pass on unchanged. To show a new field of the contract, add it to the view here
(and to its `from_message`), then add an entity description that reads it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from .contract import CONTRACT, ContractError

type Message = Mapping[str, Any]
type Direction = Literal["in", "out"]
DIRECTIONS: tuple[Direction, ...] = ("in", "out")

# The behavioural personas of shoppers, in the contract's order. Staff are counted apart
# (`staff_like` never enters a shopper figure); `group` is the store simulator's alone.
PERSONAS: tuple[str, ...] = tuple(CONTRACT["definitions"]["persona"]["enum"])
STAFF_PERSONA = "staff_like"
SIMULATED_PERSONA = "group"


@dataclass(frozen=True, slots=True)
class Named:
    """Something a node's description lists: its id on the node and the owner's name for it."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Zone(Named):
    """A zone of a node's view (people in it, dwell)."""


@dataclass(frozen=True, slots=True)
class Line(Named):
    """A counting line; crossings of an entrance line count as store footfall."""

    entrance: bool


@dataclass(frozen=True, slots=True)
class Display(Named):
    """A display zone in front of a shop window or screen (passers, watchers, attention)."""


@dataclass(frozen=True, slots=True)
class Product(Named):
    """A product on a shelf (its facings are watched apart)."""


@dataclass(frozen=True, slots=True)
class Shelf(Named):
    """A watched shelf area, with the products the owner listed on it."""

    products: tuple[Product, ...]

    @classmethod
    def from_message(cls, shelf: Message) -> Self:
        products = tuple(Product(p["id"], p["name"]) for p in shelf.get("products", []))
        return cls(shelf["id"], shelf["name"], products)


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A node's retained description: what it is and what it watches."""

    message: Message = field(repr=False, compare=False)
    name: str
    model: str
    sw_version: str
    hw_version: str | None
    capacity: int | None
    zones: tuple[Zone, ...]
    lines: tuple[Line, ...]
    displays: tuple[Display, ...]
    shelves: tuple[Shelf, ...]
    attention: bool  # the node's opt-in attention cue is on (watchers, attention time)
    mood: bool  # the node's opt-in aggregate mood is on
    snapshots: bool  # the node allows anonymised snapshots on request
    synthetic: bool  # a node of the store simulator
    personas: bool  # the node classifies visits into personas (groups and staff with them)

    @classmethod
    def from_message(cls, message: Message) -> Self:
        features = message.get("features", {})
        return cls(
            message=message,
            name=message["name"],
            model=message["model"]["name"],
            sw_version=message["sw_version"],
            hw_version=message.get("hw_version"),
            capacity=message.get("capacity"),
            zones=tuple(Zone(z["id"], z["name"]) for z in message["zones"]),
            lines=tuple(
                Line(x["id"], x["name"], x.get("entrance", False)) for x in message["lines"]
            ),
            displays=tuple(Display(d["id"], d["name"]) for d in message.get("displays", [])),
            shelves=tuple(Shelf.from_message(x) for x in message.get("shelves", [])),
            attention=features.get("attention", False),
            mood=features.get("mood", False),
            snapshots=features.get("snapshot", True),
            synthetic=message.get("synthetic", False),
            personas=features.get("personas", False),
        )

    @property
    def shopper_personas(self) -> tuple[str, ...]:
        """The personas this node's shopper visits can have (none without personas)."""
        if not self.personas:
            return ()
        left_out = {STAFF_PERSONA} | (set() if self.synthetic else {SIMULATED_PERSONA})
        return tuple(p for p in PERSONAS if p not in left_out)


@dataclass(frozen=True, slots=True)
class LineCounts:
    """Crossings of one line since the node's midnight."""

    entered: int
    left: int

    def of(self, direction: Direction) -> int:
        return self.entered if direction == "in" else self.left


@dataclass(frozen=True, slots=True)
class DisplayCounts:
    """A display's audience since the node's midnight."""

    passers: int  # opportunities to see: people who entered the display zone
    impressions: int  # people who stayed
    watchers: int  # people who looked at it (attention on)
    dwell_s: float  # summed over the impressions
    attention_s: float  # summed over the impressions
    positive: float | None  # share of positive mood, once the node publishes one

    @classmethod
    def from_message(cls, figures: Message) -> Self:
        mood = figures.get("mood")
        return cls(
            passers=figures["passers"],
            impressions=figures["impressions"],
            watchers=figures.get("watchers", 0),
            dwell_s=float(figures.get("dwell_s", 0.0)),
            attention_s=float(figures.get("attention_s", 0.0)),
            positive=None if mood is None else float(mood["positive"]),
        )

    @property
    def attraction(self) -> float | None:
        """Attention time over dwell time (Quividi's attraction), as a percentage."""
        return round(100 * self.attention_s / self.dwell_s, 1) if self.dwell_s else None

    @property
    def conversion(self) -> float | None:
        """Watchers over passers, as a percentage."""
        return round(100 * self.watchers / self.passers, 1) if self.passers else None


@dataclass(frozen=True, slots=True)
class LiveMix:
    """Provisional personas of the shoppers in view now, for the node and per zone."""

    total: Mapping[str, int]
    zones: Mapping[str, Mapping[str, int]]

    @classmethod
    def from_message(cls, live: Message) -> Self:
        return cls(
            total=dict(live["total"]),
            zones={zone: dict(mix) for zone, mix in live["zones"].items()},
        )

    def main(self, zone: str | None = None) -> str:
        """The persona most shoppers in view (or in `zone`) have now; `none` when nobody is
        there. A tie goes to the persona listed first in the contract."""
        mix = self.total if zone is None else self.zones.get(zone, {})
        present = [(count, -PERSONAS.index(p), p) for p, count in mix.items() if count > 0]
        return max(present)[2] if present else "none"


@dataclass(frozen=True, slots=True)
class PersonaCounts:
    """Today's shopper visits per persona, shopping units and groups, and staff apart."""

    visits: Mapping[str, int]  # by persona
    units: int | None  # a group counts once
    groups: int | None  # units of two or more
    staff_visits: int | None
    staff_now: int | None  # people in view who look like staff

    def of(self, persona: str) -> int:
        return self.visits.get(persona, 0)

    def share(self, persona: str) -> float | None:
        """Percent of today's shopper visits with this persona; None before the first."""
        total = sum(self.visits.values())
        return None if total == 0 else round(100 * self.of(persona) / total, 1)


@dataclass(frozen=True, slots=True)
class Stock:
    """A shelf's (or one product's) stock now: fill level 0..1 and status."""

    level: float
    status: str  # ok, low or empty

    @property
    def percent(self) -> float:
        return round(100 * self.level, 1)

    @property
    def low(self) -> bool:
        """Low or empty, as the node decided (with its hysteresis)."""
        return self.status != "ok"


@dataclass(frozen=True, slots=True)
class ShelfStock:
    """A shelf's stock now, with its products and takes and returns since the node's midnight."""

    stock: Stock
    taken: int
    returned: int
    products: Mapping[str, Stock]

    @classmethod
    def from_message(cls, figures: Message) -> Self:
        return cls(
            stock=Stock(float(figures["level"]), figures["status"]),
            taken=figures.get("taken", 0),
            returned=figures.get("returned", 0),
            products={
                k: Stock(float(v["level"]), v["status"])
                for k, v in figures.get("products", {}).items()
            },
        )

    def of(self, product_id: str | None) -> Stock | None:
        """The shelf's stock (`product_id` None) or one product's, when the node reports it."""
        return self.stock if product_id is None else self.products.get(product_id)


@dataclass(frozen=True, slots=True)
class NodeCounts:
    """A node's retained state: who is in view now, and its counters since local midnight."""

    message: Message = field(repr=False, compare=False)
    people: int
    zone_people: Mapping[str, int]
    lines: Mapping[str, LineCounts]
    visits: int
    dwell_mean_s: Mapping[str, float]  # by zone
    displays: Mapping[str, DisplayCounts]
    stock: Mapping[str, ShelfStock]  # by shelf
    personas: PersonaCounts | None = None  # None: the node does not classify personas
    live: LiveMix | None = None

    @classmethod
    def from_message(cls, message: Message) -> Self:
        occupancy, counters = message["occupancy"], message["counters"]
        live = message.get("live")
        return cls(
            message=message,
            people=occupancy["total"],
            zone_people=dict(occupancy["zones"]),
            lines={k: LineCounts(v["in"], v["out"]) for k, v in counters["lines"].items()},
            visits=counters["visits"],
            dwell_mean_s={k: v["mean_s"] for k, v in counters.get("dwell", {}).items()},
            displays={
                k: DisplayCounts.from_message(v) for k, v in counters.get("impressions", {}).items()
            },
            stock={k: ShelfStock.from_message(v) for k, v in message.get("stock", {}).items()},
            personas=_persona_counts(occupancy, counters),
            live=None if live is None else LiveMix.from_message(live),
        )


def _persona_counts(occupancy: Message, counters: Message) -> PersonaCounts | None:
    if "personas" not in counters:
        return None
    return PersonaCounts(
        visits=dict(counters["personas"]),
        units=counters.get("units"),
        groups=counters.get("groups"),
        staff_visits=counters.get("staff_visits"),
        staff_now=occupancy.get("staff"),
    )


@dataclass(frozen=True, slots=True)
class NodeVitals:
    """A node's retained health report."""

    message: Message = field(repr=False, compare=False)
    fps: float
    inference_ms: float
    camera: str
    queue_depth: int
    queue_dropped: int

    @classmethod
    def from_message(cls, message: Message) -> Self:
        queue = message["queue"]
        return cls(
            message=message,
            fps=message["fps"],
            inference_ms=message["inference_ms"],
            camera=message["camera"],
            queue_depth=queue["depth"],
            queue_dropped=queue["dropped"],
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The latest anonymised picture a node sent on request (every person pixelated)."""

    request_id: str  # the `snapshot` command it answers
    ts: float
    width: int
    height: int
    jpeg: bytes

    @classmethod
    def from_message(cls, message: Message) -> Self:
        """Decode the picture; a reply whose image is not a JPEG breaks the contract."""
        try:
            jpeg = base64.b64decode(message["image"], validate=True)
        except binascii.Error as err:
            raise ContractError("snapshot", "image", f"not valid base64 ({err})") from None
        if not jpeg.startswith(b"\xff\xd8"):
            raise ContractError("snapshot", "image", "not a JPEG image")
        return cls(
            request_id=message["id"],
            ts=message["ts"],
            width=message["width"],
            height=message["height"],
            jpeg=jpeg,
        )


def _message(view: NodeInfo | NodeCounts | NodeVitals | None) -> Message | None:
    return None if view is None else view.message


@dataclass(slots=True)
class NodeData:
    """What the hub knows of one node; every value here passed the contract."""

    node_id: str
    online: bool | None = False  # None: the availability payload was not one the contract knows
    info: NodeInfo | None = None
    counts: NodeCounts | None = None
    vitals: NodeVitals | None = None
    snapshot: Snapshot | None = None

    @property
    def description(self) -> Message | None:
        """The description message as the node sent it."""
        return _message(self.info)

    @property
    def state(self) -> Message | None:
        """The state message as the node sent it."""
        return _message(self.counts)

    @property
    def health(self) -> Message | None:
        """The health message as the node sent it."""
        return _message(self.vitals)

    @property
    def snapshot_jpeg(self) -> bytes | None:
        return None if self.snapshot is None else self.snapshot.jpeg
