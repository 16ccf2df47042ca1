"""Every message a node sends, and the topic it goes to: one builder per message of the contract.

The real node (`node.py`) and the store simulator both build their availability, description,
state, health, events, replies and snapshots here, so a field exists on both sides or on
neither. Schema version and topic patterns come from the contract (`contract.py`); nothing
else in the node writes a schema number or a topic.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import LineConfig, ZoneConfig
from .contract import AVAILABILITY, TOPICS, VERSION
from .counters import DailyCounters

if TYPE_CHECKING:
    from .outbox import QueueStats

ONLINE, OFFLINE = (value.encode() for value in AVAILABILITY)
PERSON_TRACK_CAP = 64  # paths, crossings and carts are bounded by the contract
MAX_COUNT = 10_000_000  # the contract's bound on a count


def encode(message: Mapping[str, Any]) -> bytes:
    """The wire form of a message: compact JSON, never NaN or Infinity."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode()


def _ts(ts: float) -> float:
    return round(ts, 3)


@dataclass(frozen=True, slots=True)
class Topics:
    """The contract's topics of one node under a topic root."""

    root: str
    node_id: str

    def of(self, kind: str) -> str:
        """availability, description, state, health, command, reply or snapshot."""
        return TOPICS[kind].format(root=self.root, node=self.node_id, type="")

    def event(self, event_type: str) -> str:
        return TOPICS["event"].format(root=self.root, node=self.node_id, type=event_type)

    @staticmethod
    def ha_status() -> str:
        """Home Assistant's birth topic: a node republishes its retained messages on it."""
        return TOPICS["ha_status"]


# --- retained messages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Model:
    """What the description says about the detector."""

    name: str
    sha256: str
    input: str | None = None  # "300x300"; None when there is no real model


@dataclass(frozen=True, slots=True)
class Shelf:
    """A watched shelf as the description lists it."""

    id: str
    name: str
    polygon: Sequence[tuple[float, float]]
    products: Sequence[tuple[str, str]]  # (id, name)


@dataclass(frozen=True, slots=True)
class Features:
    snapshot: bool = False
    personas: bool = False
    attention: bool = False
    mood: bool = False


def _area(zone: ZoneConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": zone.id,
        "name": zone.name,
        "polygon": [list(p) for p in zone.polygon],
    }
    if zone.capacity is not None:
        out["capacity"] = zone.capacity
    return out


def _line(line: LineConfig) -> dict[str, Any]:
    return {
        "id": line.id,
        "name": line.name,
        "start": list(line.start),
        "end": list(line.end),
        "entrance": line.entrance,
    }


def description(
    *,
    node_id: str,
    name: str,
    ts: float,
    model: Model,
    hw_version: str | None,
    timezone: str,
    capacity: int | None,
    zones: Sequence[ZoneConfig],
    lines: Sequence[LineConfig],
    displays: Sequence[ZoneConfig] = (),
    shelves: Sequence[Shelf] = (),
    features: Features = Features(),
    synthetic: bool = False,
) -> dict[str, Any]:
    """The retained description Home Assistant builds the node's device and entities from."""
    model_info: dict[str, Any] = {"name": model.name, "sha256": model.sha256}
    if model.input is not None:
        model_info["input"] = model.input
    message: dict[str, Any] = {
        "schema": VERSION,
        "node_id": node_id,
        "name": name,
        "sw_version": __version__,
        "hw_version": hw_version,
        "model": model_info,
        "timezone": timezone,
        "capacity": capacity,
        "zones": [_area(z) for z in zones],
        "lines": [_line(ln) for ln in lines],
        "displays": [_area(d) for d in displays],
        "shelves": [
            {
                "id": shelf.id,
                "name": shelf.name,
                "polygon": [list(p) for p in shelf.polygon],
                "products": [{"id": pid, "name": pname} for pid, pname in shelf.products],
            }
            for shelf in shelves
        ],
        "features": {
            "snapshot": features.snapshot,
            "personas": features.personas,
            "attention": features.attention,
            "mood": features.mood,
        },
    }
    if synthetic:
        message["synthetic"] = True
    message["ts"] = _ts(ts)
    return message


@dataclass(frozen=True, slots=True)
class StockLevel:
    """One shelf's stock as the state reports it, with its products' levels where it has them."""

    level: float
    status: str  # ok, low, empty
    products: Mapping[str, tuple[float, str]] = field(default_factory=dict)  # id: (level, status)


def state(
    ts: float,
    counters: DailyCounters,
    occupancy_total: int,
    occupancy_zones: Mapping[str, int],
    stock: Mapping[str, StockLevel] | None = None,
    *,
    staff: int | None = None,
    live: Mapping[str, Any] | None = None,
    mood_min: int = 5,
    stream: str | None = None,
    replay_from: int | None = None,
) -> dict[str, Any]:
    """The authoritative retained state: occupancy now, counters since local midnight; with
    personas on, `staff` in view (counted apart) and the provisional persona mix `live`.
    Mood shares appear only over at least `mood_min` impressions."""
    occupancy: dict[str, Any] = {"total": occupancy_total, "zones": dict(occupancy_zones)}
    if staff is not None:
        occupancy["staff"] = staff
    message: dict[str, Any] = {
        "schema": VERSION,
        "ts": _ts(ts),
        "day": counters.day,
        "occupancy": occupancy,
        "counters": counters.to_contract(mood_min),
    }
    if stock:
        message["stock"] = {
            shelf: _stock(level, counters.shelf_moves(shelf)) for shelf, level in stock.items()
        }
    message["last_seq"] = counters.last_seq
    if stream is not None:  # which stream last_seq counts, and how far back it can replay
        message["stream"] = stream
    if replay_from is not None:
        message["replay_from"] = replay_from
    if live is not None:
        message["live"] = dict(live)
    return message


def _stock(level: StockLevel, moves: Mapping[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level.level, "status": level.status, **moves}
    if level.products:
        out["products"] = {
            product: {"level": product_level, "status": status}
            for product, (product_level, status) in level.products.items()
        }
    return out


def health(
    *,
    ts: float,
    uptime_s: float,
    fps: float,
    inference_ms: float,
    skipped_frames: int,
    camera: str,
    queue: QueueStats,
    cpu_temp_c: float | None,
    rss_mb: float | None,
    model: str,
    threads: int,
    problems: Sequence[str] = (),
    cpu_percent: float | None = None,
    link_restarts: int = 0,
    rejected_commands: int = 0,
) -> dict[str, Any]:
    """The periodic retained health report."""
    message: dict[str, Any] = {
        "schema": VERSION,
        "ts": _ts(ts),
        "uptime_s": round(uptime_s, 1),
        "fps": fps,
        "inference_ms": inference_ms,
        "skipped_frames": skipped_frames,
        "camera": camera,
        "queue": {
            "depth": queue.depth,
            "oldest_age_s": queue.oldest_age_s,
            "dropped": queue.dropped,
            "bytes": queue.bytes,
        },
        "cpu_temp_c": cpu_temp_c,
    }
    if cpu_percent is not None:
        message["cpu_percent"] = cpu_percent
    message |= {
        "rss_mb": rss_mb,
        "sw_version": __version__,
        "model": model,
        "threads": threads,
        "link_restarts": min(link_restarts, MAX_COUNT),
        "rejected_commands": min(rejected_commands, MAX_COUNT),
        "problems": list(problems)[:16],
    }
    return message


# --- events: `fields` of an event; the outbox adds the envelope with `event` -----------------


def event(
    stream: str, seq: int, ts: float, event_type: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """An event as published: the envelope (stream, seq, ts, type) and its fields."""
    return {
        "schema": VERSION,
        "stream": stream,
        "seq": seq,
        "ts": _ts(ts),
        "type": event_type,
        **fields,
    }


def crossing(line: str, direction: str, track: int) -> dict[str, Any]:
    return {"line": line, "direction": direction, "track": track}


def visit(
    *,
    track: int,
    started: float,
    duration_s: float,
    zones: Mapping[str, float],
    path: Sequence[str],
    crossings: Sequence[tuple[str, str]],
    group_size: int = 1,
    persona: str | None = None,
    cart: tuple[Sequence[str], Sequence[str]] | None = None,
) -> dict[str, Any]:
    """A visit summary; `zones` are dwell seconds (already rounded as the counters keep them),
    `crossings` (line, direction) pairs, `cart` the products (taken, returned) if shelves exist."""
    fields: dict[str, Any] = {
        "track": track,
        "started": _ts(started),
        "duration_s": round(duration_s, 1),
        "zones": dict(zones),
        "path": list(path)[:PERSON_TRACK_CAP],
        "crossings": [{"line": ln, "direction": d} for ln, d in crossings][:PERSON_TRACK_CAP],
        "group_size": group_size,
        "persona": persona,
    }
    if cart is not None:
        taken, returned = cart
        fields["cart"] = {
            "taken": list(taken)[:PERSON_TRACK_CAP],
            "returned": list(returned)[:PERSON_TRACK_CAP],
        }
    return fields


def shelf(
    shelf_id: str,
    change: str,
    level: float,
    product: str | None,
    track: int | None,
    *,
    magnitude: float | None = None,
    count: int | None = None,
) -> dict[str, Any]:
    """A shelf change; `magnitude` (share of facings) and `count` where the node measured them."""
    fields: dict[str, Any] = {
        "shelf": shelf_id,
        "change": change,
        "level": level,
        "product": product,
        "track": track,
    }
    if magnitude is not None:
        fields["magnitude"] = magnitude
    if count is not None:
        fields["count"] = count
    return fields


def impression(
    *,
    display: str,
    track: int,
    duration_s: float,
    looked: bool,
    offer: str | None,
    attention_s: float | None = None,
) -> dict[str, Any]:
    """One person who dwelt at a display. Mood never goes out per person (only in the state's
    aggregates); attention time only where attention is on (`attention_s` given)."""
    fields: dict[str, Any] = {
        "display": display,
        "track": track,
        "duration_s": round(duration_s, 1),
        "looked": looked,
        "offer": offer,
    }
    if attention_s is not None:
        fields["attention_s"] = round(attention_s, 1)
    return fields


# --- answers to commands --------------------------------------------------------------------


def reply(request_id: str, command: str, error: str | None, ts: float) -> dict[str, Any]:
    return {
        "schema": VERSION,
        "id": request_id,
        "command": command,
        "ok": error is None,
        "error": error,
        "ts": _ts(ts),
    }


def snapshot(
    request_id: str, ts: float, *, jpeg: bytes, width: int, height: int, people_pixelated: int
) -> dict[str, Any]:
    """The on-request snapshot (every person already pixelated by `snapshot.py`)."""
    return {
        "schema": VERSION,
        "id": request_id,
        "ts": _ts(ts),
        "content_type": "image/jpeg",
        "width": width,
        "height": height,
        "people_pixelated": people_pixelated,
        "image": base64.b64encode(jpeg).decode("ascii"),
    }
