"""The MQTT contract: every documented example is valid, and malformed payloads are refused
with a message that names the offending field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from custom_components.storefront import contract
from tests.node_contract import example

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL_MD = ROOT / "docs" / "protocol.md"
DEFINITIONS = contract.CONTRACT["definitions"]
MESSAGE_KINDS = (*contract.JSON_KINDS, "availability")


def _examples() -> list[tuple[str, Any]]:
    return [(kind, ex) for kind in MESSAGE_KINDS for ex in DEFINITIONS[kind]["examples"]]


def _doc_examples() -> list[tuple[str, str]]:
    """Fenced blocks in docs/protocol.md tagged ```json storefront:<kind>."""
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    return re.findall(r"```json storefront:(\w+)\n(.*?)```", text, flags=re.DOTALL)


def test_every_message_kind_has_an_example() -> None:
    for kind in MESSAGE_KINDS:
        assert DEFINITIONS[kind].get("examples"), f"{kind} has no example in contract.json"


@pytest.mark.parametrize(("kind", "example"), _examples())
def test_contract_examples_validate(kind: str, example: Any) -> None:
    payload = example if isinstance(example, str) else json.dumps(example)
    assert contract.parse(kind, payload) == example


def test_protocol_doc_shows_every_kind() -> None:
    shown = {kind for kind, _ in _doc_examples()}
    assert shown == set(contract.JSON_KINDS)


@pytest.mark.parametrize(("kind", "body"), _doc_examples())
def test_protocol_doc_examples_validate(kind: str, body: str) -> None:
    contract.parse(kind, body)


def _mutated(kind: str, change: Any) -> Any:
    value = example(kind)
    change(value)
    return value


def _set(path: str, new: Any) -> Any:
    def apply(value: Any) -> None:
        *parents, last = path.split(".")
        for key in parents:
            value = value[int(key)] if key.isdigit() else value[key]
        value[int(last) if last.isdigit() else last] = new

    return apply


def _delete(key: str) -> Any:
    return lambda value: value.pop(key)


MALFORMED = [
    # kind, mutation, field the error names (missing and unknown keys are named in the message)
    ("state", _set("occupancy.total", -1), "occupancy.total"),
    ("state", _set("occupancy.total", "3"), "occupancy.total"),
    ("state", _set("occupancy.total", True), "occupancy.total"),
    ("state", _set("occupancy.total", 2.5), "occupancy.total"),
    ("state", _set("occupancy.zones", {"Window!": 1}), "occupancy.zones"),
    ("state", _set("counters.lines", {"door": {"in": 1}}), "counters.lines.door"),
    ("state", _set("counters.visits", 10**12), "counters.visits"),
    ("state", _set("day", "22.11.2026"), "day"),
    ("state", _set("stock", {"coffee": {"level": 1.5, "status": "ok"}}), "stock.coffee.level"),
    ("state", _delete("ts"), "ts"),
    ("description", _set("node_id", "Entrance Cam"), "node_id"),
    ("description", _set("zones.0.polygon", [[0.1, 0.1], [0.2, 0.2]]), "zones[0].polygon"),
    ("description", _set("zones.0.polygon", [[0.1, 0.1], [0.2, 1.2], [0.3, 0.1]]), "zones[0]"),
    ("description", _set("lines.0.start", [0.5]), "lines[0].start"),
    ("description", _set("model", {"name": "x", "sha256": "nothex"}), "model.sha256"),
    ("health", _set("fps", -3), "fps"),
    ("health", _set("camera", "on fire"), "camera"),
    ("health", _set("queue.dropped", -1), "queue.dropped"),
    ("event_crossing", _set("direction", "sideways"), "direction"),
    ("event_crossing", _set("seq", 0), "seq"),
    ("event_crossing", _set("seq", "7"), "seq"),
    ("event_crossing", _set("ts", 12.0), "ts"),
    ("event_crossing", _set("stream", "XYZ"), "stream"),
    ("event_crossing", _set("face_id", "abc"), "face_id"),
    ("event_visit", _set("duration_s", -5), "duration_s"),
    ("event_visit", _set("persona", "age_30_40_female"), "persona"),
    ("event_shelf", _set("change", "stolen"), "change"),
    ("event_impression", _set("looked", "yes"), "looked"),
    ("command", _set("command", "format_disk"), "command"),
    ("command", _set("id", "has spaces"), "id"),
    ("reply", _delete("ok"), "ok"),
    ("snapshot", _set("content_type", "image/png"), "content_type"),
    ("snapshot", _set("image", "not base64!"), "image"),
]


@pytest.mark.parametrize(("kind", "mutation", "field"), MALFORMED)
def test_malformed_payload_names_the_field(kind: str, mutation: Any, field: str) -> None:
    bad = _mutated(kind, mutation)
    with pytest.raises(contract.ContractError) as caught:
        contract.parse(kind, json.dumps(bad))
    error = caught.value
    assert error.kind == kind
    assert error.field.startswith(field) or (error.field == "" and f"'{field}'" in str(error))
    assert field in str(error)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"schema": 1, "ts": NaN}', "NaN"),
        (b'{"schema": 1, "ts": Infinity}', "Infinity"),
        (b'{"schema": 1, "ts": 1e999}', "out of range"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "must be object"),
    ],
)
def test_undecodable_payloads_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(contract.ContractError, match=re.escape(message)):
        contract.parse("health", payload)


def test_unknown_contract_version_is_refused() -> None:
    bad = _mutated("state", _set("schema", 99))
    with pytest.raises(contract.ContractError) as caught:
        contract.parse("state", json.dumps(bad))
    assert caught.value.field == "schema"
    assert "unknown contract version 99" in str(caught.value)


def test_oversized_payload_is_refused_before_decoding() -> None:
    limit = contract.MAX_PAYLOAD_BYTES
    with pytest.raises(contract.ContractError, match="exceeds"):
        contract.parse("state", b" " * (limit + 1))
    # Snapshots carry an image and may be larger, within their own limit.
    with pytest.raises(contract.ContractError, match="exceeds"):
        contract.parse("snapshot", b" " * (contract.MAX_SNAPSHOT_BYTES + 1))


def test_availability_is_plain_text() -> None:
    assert contract.parse("availability", b"online") == "online"
    with pytest.raises(contract.ContractError):
        contract.parse("availability", b'"online"')


@pytest.mark.parametrize("node_id", ["entrance", "cam-2", "back_door", "a" * 32])
def test_valid_node_ids(node_id: str) -> None:
    assert contract.validate_node_id(node_id) == node_id


@pytest.mark.parametrize("node_id", ["", "Entrance", "cam 2", "a" * 33, "cam/2", "käse", "+", "#"])
def test_invalid_node_ids(node_id: str) -> None:
    with pytest.raises(contract.ContractError, match="node_id"):
        contract.validate_node_id(node_id)


@pytest.mark.parametrize(
    ("name", "event_type", "expected"),
    [
        ("availability", None, contract.Topic("cam1", "availability")),
        ("description", None, contract.Topic("cam1", "description")),
        ("state", None, contract.Topic("cam1", "state")),
        ("health", None, contract.Topic("cam1", "health")),
        ("command", None, contract.Topic("cam1", "command")),
        ("reply", None, contract.Topic("cam1", "reply")),
        ("snapshot", None, contract.Topic("cam1", "snapshot")),
        ("event", "crossing", contract.Topic("cam1", "event_crossing", "crossing")),
        ("event", "visit", contract.Topic("cam1", "event_visit", "visit")),
        ("event", "shelf", contract.Topic("cam1", "event_shelf", "shelf")),
        ("event", "impression", contract.Topic("cam1", "event_impression", "impression")),
    ],
)
def test_topics_round_trip(name: str, event_type: str | None, expected: contract.Topic) -> None:
    built = contract.topic(name, "shops/berlin", "cam1", event_type)
    assert built.startswith("shops/berlin/cam1/")
    assert contract.parse_topic("shops/berlin", built) == expected


@pytest.mark.parametrize(
    "topic",
    [
        "other/cam1/state",
        "storefront/cam1",
        "storefront/cam1/event/teleport",
        "storefront/cam1/state/extra",
        "storefront/cam1/unknown",
    ],
)
def test_foreign_topics_are_not_contract_topics(topic: str) -> None:
    assert contract.parse_topic("storefront", topic) is None
