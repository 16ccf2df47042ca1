"""The real node on real footage with a display zone, against a real mosquitto: impressions
by the contract with attention off (the default) and on, and the offer on screen put on them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.edge.node_process import Walkway, reply
from tests.node_contract import contract

WALKWAY = [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]


def _impressions(probe: Any) -> list[dict[str, Any]]:
    events = [e for _, e in sorted(probe.events.items()) if e["type"] == "impression"]
    return [contract.parse("event_impression", json.dumps(e).encode()) for e in events]


@pytest.mark.parametrize("attention", [False, True], ids=["default", "attention"])
def test_node_publishes_impressions_with_the_offer_on_screen(
    walkway: Callable[..., Walkway], attention: bool
) -> None:
    probe, _, node = walkway(
        displays=[{"id": "window", "name": "Window", "polygon": WALKWAY}],
        features={"attention": attention, "mood": attention},
        audience={"dwell_s": 1.0},
    )
    probe.wait(lambda: len(_impressions(probe)) >= 2, within_s=120)

    refused = reply(probe, "show0", "now_showing", {"display": "nowhere", "offer": "spring"})
    assert refused["ok"] is False
    assert "args.display" in refused["error"]
    shown = reply(probe, "show1", "now_showing", {"display": "window", "offer": "spring"})
    assert shown["ok"] is True
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
