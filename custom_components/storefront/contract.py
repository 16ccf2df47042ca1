"""The Storefront MQTT contract, loaded from contract.json (its single source of truth).

Every payload from the wire goes through `parse`: size limit, nesting depth (scanned before the
JSON decoder, whose recursion a deeply nested payload would exhaust), strict JSON (no
NaN/Infinity), then the JSON Schema of its message kind. What comes out is a plain dict known to
be valid; what does not pass raises `ContractError` naming the offending field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import fastjsonschema

CONTRACT_PATH: Final = Path(__file__).with_name("contract.json")
CONTRACT: Final[dict[str, Any]] = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
VERSION: Final[int] = CONTRACT["x-version"]
TOPICS: Final[dict[str, str]] = CONTRACT["x-topics"]
MAX_PAYLOAD_BYTES: Final[int] = CONTRACT["x-limits"]["max_payload_bytes"]
MAX_SNAPSHOT_BYTES: Final[int] = CONTRACT["x-limits"]["max_snapshot_bytes"]
MAX_DEPTH: Final[int] = CONTRACT["x-limits"]["max_depth"]
MAX_INTEGER: Final[int] = CONTRACT["x-limits"]["max_integer"]
# A refusal's message may quote what was received; logs and diagnostics keep it short.
MAX_REASON_CHARS: Final = 200
_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET: Final = re.compile(rb"[^\[\]{}]+")

EVENT_TYPES: Final = ("crossing", "visit", "shelf", "impression")
JSON_KINDS: Final = (
    "description",
    "state",
    "health",
    *(f"event_{kind}" for kind in EVENT_TYPES),
    "command",
    "reply",
    "snapshot",
)
# The kinds a topic directly under a node's subtree carries (events have one more level).
NODE_TOPIC_KINDS: Final = (
    "availability",
    *(kind for kind in JSON_KINDS if not kind.startswith("event_")),
)


class ContractError(ValueError):
    """A payload that breaks the contract. `field` names where (e.g. 'occupancy.total')."""

    def __init__(self, kind: str, field: str, message: str) -> None:
        field = _truncate(field, 80)
        message = _truncate(message, MAX_REASON_CHARS)
        super().__init__(f"{kind}: {field}: {message}" if field else f"{kind}: {message}")
        self.kind = kind
        self.field = field
        self.reason = message


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def nesting_depth(payload: bytes, limit: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest in `payload` (strings skipped); stops counting once
    past `limit`, so a depth bomb costs one regular-expression pass, not a recursion."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", payload))
    depth = deepest = 0
    for char in brackets:
        if char in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def _compile(kind: str) -> Callable[[Any], Any]:
    # Compile the whole document with a root $ref so every definition resolves locally.
    schema = {**CONTRACT, "$ref": f"#/definitions/{kind}"}
    validator: Callable[[Any], Any] = fastjsonschema.compile(schema)
    return validator


_VALIDATORS: Final[dict[str, Callable[[Any], Any]]] = {
    kind: _compile(kind) for kind in (*JSON_KINDS, "availability", "id")
}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    # '1e999' parses to inf without complaint; a count or a time can never be infinite.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _field_of(path: str) -> str:
    """fastjsonschema names fields as 'data.a.b[0]'; show them as 'a.b[0]'."""
    return path.removeprefix("data").lstrip(".")


def validate(kind: str, value: Any) -> Any:
    """Check an already-decoded value against the schema of `kind`; return it unchanged."""
    try:
        return _VALIDATORS[kind](value)
    except fastjsonschema.JsonSchemaValueException as err:
        name = err.name or "data"
        field = _field_of(name)
        message = err.message.removeprefix(name).strip() or err.message
        raise ContractError(kind, field, message) from None


def validate_node_id(node_id: str) -> str:
    """Node ids follow the contract's id rule; anything else is refused."""
    try:
        return str(_VALIDATORS["id"](node_id))
    except fastjsonschema.JsonSchemaValueException:
        raise ContractError(
            "topic",
            "node_id",
            f"{node_id!r} is not a valid node id (1-32 characters of a-z, 0-9, _ and -)",
        ) from None


def parse(kind: str, payload: bytes | bytearray | str) -> Any:
    """Decode and validate one MQTT payload of message `kind` (see JSON_KINDS)."""
    limit = MAX_SNAPSHOT_BYTES if kind == "snapshot" else MAX_PAYLOAD_BYTES
    if len(payload) > limit:
        raise ContractError(
            kind, "", f"payload of {len(payload)} bytes exceeds the {limit} byte limit"
        )
    if kind == "availability":
        text = payload if isinstance(payload, str) else bytes(payload).decode("utf-8", "replace")
        return validate(kind, text)
    raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else bytes(payload)
    if nesting_depth(raw) > MAX_DEPTH:
        raise ContractError(kind, "", f"nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ContractError(kind, "", f"not valid JSON ({err})") from None
    if isinstance(value, dict) and "schema" in value and value["schema"] != VERSION:
        raise ContractError(
            kind,
            "schema",
            f"unknown contract version {value['schema']!r}; this side speaks {VERSION}",
        )
    return validate(kind, value)


@dataclass(frozen=True, slots=True)
class Topic:
    """What a topic under the root means: which node, which message kind, which event type."""

    node_id: str
    kind: str  # one of JSON_KINDS or "availability"
    event_type: str | None = None


def topic(name: str, root: str, node_id: str, event_type: str | None = None) -> str:
    """Build a topic from the contract's pattern `name` (a key of TOPICS)."""
    return TOPICS[name].format(root=root, node=node_id, type=event_type or "")


def parse_topic(root: str, full_topic: str) -> Topic | None:
    """Map a topic under `root` to what it carries; None for topics the contract does not name."""
    prefix = f"{root}/"
    if not full_topic.startswith(prefix):
        return None
    parts = full_topic[len(prefix) :].split("/")
    if len(parts) == 3 and parts[1] == "event" and parts[2] in EVENT_TYPES:
        return Topic(parts[0], f"event_{parts[2]}", parts[2])
    if len(parts) == 2 and parts[1] in NODE_TOPIC_KINDS:
        return Topic(parts[0], parts[1])
    return None
