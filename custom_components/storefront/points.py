"""What the store's MQTT messages become in InfluxDB: line protocol, one documented schema.

docs/data-model.md is the reference for every measurement, tag and field written here. This
module is pure (no Home Assistant imports): the analyst app's tests, the store simulator and the
benchmarks write their data through exactly this code.

The line protocol encoder is written by hand: it is twenty lines of escaping rules, and the
client libraries that carry one bring a synchronous HTTP stack the integration does not use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .rollup import DwellPoint, DwellRollup, OccupancyRollup, RollupPoint

# Measurements (docs/data-model.md).
OCCUPANCY: Final = "occupancy"
OCCUPANCY_1H: Final = "occupancy_1h"
NODE_OCCUPANCY: Final = "node_occupancy"
CROSSING: Final = "crossing"
VISIT: Final = "visit"
DWELL: Final = "dwell"
DWELL_1H: Final = "dwell_1h"
FOOTFALL: Final = "footfall"
COUNTERS: Final = "counters"
PERSONAS: Final = "personas"
STOCK: Final = "stock"
PRODUCT_STOCK: Final = "product_stock"
SHELF: Final = "shelf"
IMPRESSION: Final = "impression"
HEALTH: Final = "health"
AVAILABILITY: Final = "availability"
OFFER_SHOWN: Final = "offer_shown"
OFFER_IMPRESSION: Final = "offer_impression"
OFFER_TAG: Final = "offer_tag"
MEASUREMENTS: Final = (
    OCCUPANCY,
    OCCUPANCY_1H,
    NODE_OCCUPANCY,
    CROSSING,
    VISIT,
    DWELL,
    DWELL_1H,
    FOOTFALL,
    COUNTERS,
    PERSONAS,
    STOCK,
    PRODUCT_STOCK,
    SHELF,
    IMPRESSION,
    HEALTH,
    AVAILABILITY,
    OFFER_SHOWN,
    OFFER_IMPRESSION,
    OFFER_TAG,
)

Field = bool | int | float | str


def _escape_key(text: str) -> str:
    """Measurement names, tag keys/values and field keys: commas, equals signs, spaces."""
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace("=", "\\=")
        .replace(" ", "\\ ")
        .replace("\n", "\\n")
    )


def _field(value: Field) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # InfluxDB integers are 64-bit; the contract bounds every number well inside that.
        return f"{value}i" if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None  # InfluxDB has no NaN / inf
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def line(
    measurement: str, tags: Mapping[str, str | None], fields: Mapping[str, Field | None], ns: int
) -> str | None:
    """One point in line protocol; None when no field has a value. Tags without a value
    (or empty) are left out, as InfluxDB does; tags are sorted, as InfluxDB recommends."""
    tag_part = "".join(f",{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(tags.items()) if v)
    encoded = [
        f"{_escape_key(k)}={text}"
        for k, v in fields.items()
        if v is not None and (text := _field(v)) is not None
    ]
    if not encoded:
        return None
    return f"{_escape_key(measurement)}{tag_part} {','.join(encoded)} {ns}"


def to_ns(ts: float) -> int:
    return round(ts * 1_000_000) * 1000  # microseconds are what a node's clock is good for


def event_ns(ts: float, seq: int) -> int:
    """An event's time, with its sequence number in the nanoseconds: two events of one node
    in the same microsecond stay two points (InfluxDB keeps one point per series and time)."""
    return to_ns(ts) + seq % 1000


class PointMaker:
    """Turns one store's validated contract messages into points, tagged with the store's name,
    the node and (for simulated nodes) `synthetic=true`."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.synthetic: set[str] = set()
        self._rollup = OccupancyRollup()
        self._dwell_rollup = DwellRollup()
        self._state_ts: dict[str, float] = {}  # each node's newest state message
        # The persona counts last written per (node, persona): they change only when a visit
        # ends, while a node sends state whenever a head count moves.
        self._personas: dict[tuple[str, str], Any] = {}

    def _tags(self, node_id: str, **more: str | None) -> dict[str, str | None]:
        tags: dict[str, str | None] = {"store": self.store, "node": node_id, **more}
        if node_id in self.synthetic:
            tags["synthetic"] = "true"
        return tags

    def _lines(
        self, rows: Iterable[tuple[str, dict[str, str | None], dict[str, Field | None], int]]
    ) -> list[str]:
        return [text for row in rows if (text := line(*row)) is not None]

    def description(self, node_id: str, description: Mapping[str, Any]) -> list[str]:
        """Nothing is written; a simulated node's later points are tagged synthetic."""
        if description.get("synthetic"):
            self.synthetic.add(node_id)
        else:
            self.synthetic.discard(node_id)
        return []

    def availability(self, node_id: str, online: bool, ts: float) -> list[str]:
        return self._lines([(AVAILABILITY, self._tags(node_id), {"online": online}, to_ns(ts))])

    def occupancy(
        self, node_id: str, state: Mapping[str, Any], ts: float, *, rollup: bool = True
    ) -> list[str]:
        """The head count now: per zone and for the node's whole view; and the hourly
        rollup of each zone whose slot this reading closes (`rollup=False`: a reading that
        was counted already)."""
        occupancy = state.get("occupancy", {})
        ns = to_ns(ts)
        zones = sorted(occupancy.get("zones", {}).items())
        node_fields: dict[str, Field | None] = {
            "people": occupancy.get("total"),
            "staff": occupancy.get("staff"),  # only from nodes that classify personas
        }
        rows = [(NODE_OCCUPANCY, self._tags(node_id), node_fields, ns)]
        rows += [
            (OCCUPANCY, self._tags(node_id, zone=zone), {"people": people}, ns)
            for zone, people in zones
        ]
        if rollup:
            for zone, people in zones:
                if isinstance(people, int) and not isinstance(people, bool):
                    rows += map(self._rollup_row, self._rollup.add(node_id, zone, ns, people))
        return self._lines(rows)

    def rollup(self, ts: float | None = None) -> list[str]:
        """The rollups (occupancy and dwell) of every slot that ended by `ts` (every open slot
        without it: the writer stops). Call it now and then, so that the slot of a node gone
        quiet or offline, or of a zone nobody visits any more, is written."""
        ns = None if ts is None else to_ns(ts)
        rows = list(map(self._rollup_row, self._rollup.due(ns)))
        rows += map(self._dwell_row, self._dwell_rollup.due(ns))
        return self._lines(rows)

    def _rollup_row(
        self, point: RollupPoint
    ) -> tuple[str, dict[str, str | None], dict[str, Field | None], int]:
        fields: dict[str, Field | None] = {
            "people_sum": point.people_sum,
            "readings": point.readings,
        }
        return (OCCUPANCY_1H, self._tags(point.node, zone=point.zone), fields, point.ns)

    def _dwell_row(
        self, point: DwellPoint
    ) -> tuple[str, dict[str, str | None], dict[str, Field | None], int]:
        fields: dict[str, Field | None] = {
            "visits": point.visits,
            "seconds_sum": point.seconds_sum,
            **{f"bin_{edge}": count for edge, count in point.bins.items()},
        }
        return (DWELL_1H, self._tags(point.node, zone=point.zone), fields, point.ns)

    def _changed_personas(
        self, node_id: str, personas: Mapping[str, Any] | None
    ) -> list[tuple[str, Any]]:
        """The persona counts that differ from those last written for the node (all of them
        the first time): the count of a day is its largest point either way, and a quarter of
        states would otherwise be mostly repeated persona counts."""
        changed = []
        for persona, count in sorted((personas or {}).items()):
            key = (node_id, persona)
            if key not in self._personas or self._personas[key] != count:
                self._personas[key] = count
                changed.append((persona, count))
        return changed

    def state(self, node_id: str, state: Mapping[str, Any]) -> list[str]:
        """A retained state message: occupancy, and the counters since the node's midnight."""
        ts = float(state["ts"])
        ns = to_ns(ts)
        # A node's states come in order; an older or equal one is the retained state delivered
        # again (on reconnect): its reading is in InfluxDB once and in the rollup already.
        fresh = ts > self._state_ts.get(node_id, -math.inf)
        self._state_ts[node_id] = max(ts, self._state_ts.get(node_id, -math.inf))
        counters = state.get("counters", {})
        rows: list[tuple[str, dict[str, str | None], dict[str, Field | None], int]] = [
            (COUNTERS, self._tags(node_id), _counter_fields(counters), ns)
        ]
        rows += [
            (
                FOOTFALL,
                self._tags(node_id, line=line_id),
                {"in": c.get("in"), "out": c.get("out")},
                ns,
            )
            for line_id, c in sorted(counters.get("lines", {}).items())
        ]
        rows += [
            (PERSONAS, self._tags(node_id, persona=persona), {"visitors": count}, ns)
            for persona, count in self._changed_personas(node_id, counters.get("personas"))
        ]
        rows += [
            (
                STOCK,
                self._tags(node_id, shelf=shelf),
                {
                    "level": _float(s.get("level")),
                    "status": s.get("status"),
                    "taken": s.get("taken"),
                    "returned": s.get("returned"),
                },
                ns,
            )
            for shelf, s in sorted((state.get("stock") or {}).items())
        ]
        # Apart from `stock`, so a shelf's own level is never averaged with its products'.
        rows += [
            (
                PRODUCT_STOCK,
                self._tags(node_id, shelf=shelf, product=product),
                {"level": _float(p.get("level")), "status": p.get("status")},
                ns,
            )
            for shelf, s in sorted((state.get("stock") or {}).items())
            for product, p in sorted((s.get("products") or {}).items())
        ]
        return self.occupancy(node_id, state, ts, rollup=fresh) + self._lines(rows)

    def health(self, node_id: str, health: Mapping[str, Any]) -> list[str]:
        queue = health.get("queue", {})
        fields: dict[str, Field | None] = {
            "fps": _float(health.get("fps")),
            "inference_ms": _float(health.get("inference_ms")),
            "skipped_frames": health.get("skipped_frames"),
            "camera_ok": health.get("camera") == "ok",
            "queue_depth": queue.get("depth"),
            "queue_oldest_age_s": _float(queue.get("oldest_age_s")),
            "queue_dropped": queue.get("dropped"),
            "cpu_temp_c": _float(health.get("cpu_temp_c")),
            "cpu_percent": _float(health.get("cpu_percent")),
            "rss_mb": _float(health.get("rss_mb")),
            "uptime_s": _float(health.get("uptime_s")),
            "problems": len(health.get("problems", [])),
        }
        return self._lines([(HEALTH, self._tags(node_id), fields, to_ns(float(health["ts"])))])

    def event(self, node_id: str, event: Mapping[str, Any]) -> list[str]:
        ns = event_ns(float(event["ts"]), int(event["seq"]))
        kind = event["type"]
        seq = int(event["seq"])
        rows: list[tuple[str, dict[str, str | None], dict[str, Field | None], int]] = []
        if kind == "crossing":
            tags = self._tags(node_id, line=event["line"], direction=event["direction"])
            rows.append((CROSSING, tags, {"count": 1, "track": event["track"], "seq": seq}, ns))
        elif kind == "visit":
            zones: Mapping[str, float] = event.get("zones", {})
            fields: dict[str, Field | None] = {
                "duration_s": _float(event["duration_s"]),
                "zones_visited": len(zones),
                "group_size": event.get("group_size"),
                "seq": seq,
            }
            persona = event.get("persona")
            rows.append((VISIT, self._tags(node_id, persona=persona), fields, ns))
            for zone, value in sorted(zones.items()):
                seconds = _float(value)
                rows.append(
                    (
                        DWELL,
                        self._tags(node_id, zone=zone, persona=persona),
                        {"seconds": seconds},
                        ns,
                    )
                )
                if seconds is not None and math.isfinite(seconds):  # what becomes a point
                    closed = self._dwell_rollup.add(node_id, zone, ns, persona or "", seconds)
                    rows += map(self._dwell_row, closed)
        elif kind == "shelf":
            tags = self._tags(
                node_id, shelf=event["shelf"], change=event["change"], product=event.get("product")
            )
            fields = {
                "count": 1,
                "level": _float(event.get("level")),
                "facings": event.get("count"),
                "magnitude": _float(event.get("magnitude")),
                "seq": seq,
            }
            rows.append((SHELF, tags, fields, ns))
        elif kind == "impression":
            tags = self._tags(node_id, display=event["display"], offer=event.get("offer"))
            fields = {
                "count": 1,
                "duration_s": _float(event.get("duration_s")),
                "looked": event.get("looked"),
                "attention_s": _float(event.get("attention_s")),
                "seq": seq,
            }
            rows.append((IMPRESSION, tags, fields, ns))
        return self._lines(rows)

    def offer_shown(
        self, node_id: str, display: str, offer: str, *, propensity: float | None, ts: float
    ) -> list[str]:
        """An offer went on a display's screen (`propensity` None: the owner pinned it)."""
        tags = self._tags(node_id, display=display, offer=offer)
        fields: dict[str, Field | None] = {"count": 1, "propensity": propensity}
        return self._lines([(OFFER_SHOWN, tags, fields, to_ns(ts))])

    def offer_impression(
        self, node_id: str, event: Mapping[str, Any], offer: str, offer_tags: Iterable[str],
        *, persona: str, part_of_day: str, engaged: bool,
    ) -> list[str]:  # fmt: skip
        """An impression credited to the offer on screen, once for the offer and once per tag
        of it (what the tag report sums), with the audience's leading persona and part of day."""
        ns = event_ns(float(event["ts"]), int(event["seq"]))
        fields: dict[str, Field | None] = {"count": 1, "engaged": int(engaged)}
        base = {"display": event["display"], "persona": persona, "part_of_day": part_of_day}
        rows = [(OFFER_IMPRESSION, self._tags(node_id, offer=offer, **base), fields, ns)]
        rows += [
            (OFFER_TAG, self._tags(node_id, tag=tag, **base), fields, ns)
            for tag in sorted(offer_tags)
        ]
        return self._lines(rows)


def _counter_fields(counters: Mapping[str, Any]) -> dict[str, Field | None]:
    """Visitors, and from nodes that classify personas shopping units, groups and staff."""
    return {
        "visits": counters.get("visits"),
        "units": counters.get("units"),
        "groups": counters.get("groups"),
        "staff_visits": counters.get("staff_visits"),
    }


def _float(value: Any) -> float | None:
    """JSON numbers may arrive as ints; InfluxDB keeps one type per field, so floats stay floats."""
    if value is None:
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond any float; the contract refuses these already
        return None
