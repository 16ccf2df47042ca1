"""The real node on real footage with a display zone, against a real mosquitto: impressions
by the contract with attention off (the default) and on, and the offer on screen put on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storefront_dev.servers import Mosquitto
from tests.edge.test_node import probe_at, start_node, write_config  # noqa: F401
from tests.node_contract import contract

WALKWAY = [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]


def _impressions(probe: Any) -> list[dict[str, Any]]:
    events = [e for _, e in sorted(probe.events.items()) if e["type"] == "impression"]
    return [contract.parse("event_impression", json.dumps(e).encode()) for e in events]


def _command(probe: Any, request_id: str, args: dict[str, Any]) -> dict[str, Any]:
    body = {"schema": 1, "id": request_id, "command": "now_showing", "args": args}
    probe.client.publish("storefront/cam1/command", json.dumps(body), qos=1)

    def replied() -> bool:
        reply = probe.last("cam1/reply")
        return reply is not None and json.loads(reply)["id"] == request_id

    probe.wait(replied, within_s=30)
    return contract.parse("reply", probe.last("cam1/reply") or b"")


@pytest.mark.parametrize("attention", [False, True], ids=["default", "attention"])
def test_node_publishes_impressions_with_the_offer_on_screen(
    broker: Mosquitto,
    fast_vtest: Path,
    tmp_path: Path,
    start_node: Any,  # noqa: F811
    probe_at: Any,  # noqa: F811
    attention: bool,
) -> None:
    probe = probe_at(broker.port)
    config = write_config(
        tmp_path,
        fast_vtest,
        broker.port,
        displays=[{"id": "window", "name": "Window", "polygon": WALKWAY}],
        features={"attention": attention, "mood": attention},
        audience={"dwell_s": 1.0},
    )
    node = start_node(config)
    probe.wait(lambda: len(_impressions(probe)) >= 2, within_s=120)

    refused = _command(probe, "show0", {"display": "nowhere", "offer": "spring"})
    assert refused["ok"] is False
    assert "args.display" in refused["error"]
    assert _command(probe, "show1", {"display": "window", "offer": "spring"})["ok"] is True
    shown_from = len(_impressions(probe))
    probe.wait(
        lambda: any(i["offer"] == "spring" for i in _impressions(probe)[shown_from:]),
        within_s=120,
    )
    assert node.stop() == 0
    probe.wait(lambda: probe.last("cam1/availability") == b"offline")

    impressions = _impressions(probe)
    for impression in impressions:
        assert impression["display"] == "window"
        assert impression["duration_s"] >= 1.0
        assert "mood" not in impression  # never per person
        assert ("attention_s" in impression) is attention
        if not attention:
            assert impression["looked"] is False
    description = contract.parse("description", probe.last("cam1/description") or b"")
    assert description["features"]["attention"] is attention
    assert description["displays"][0]["id"] == "window"
    window = contract.parse("state", probe.last("cam1/state") or b"")["counters"]["impressions"][
        "window"
    ]
    assert window["impressions"] == len(impressions)
    assert window["passers"] >= window["impressions"]
    assert window["watchers"] == sum(i["looked"] for i in impressions)
    spring = [i for i in impressions if i["offer"] == "spring"]
    assert window["offers"]["spring"]["impressions"] == len(spring)
