"""The real node on real footage publishes visits with personas over a real mosquitto, and no
payload carries anything that identifies a person or links two visits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.edge.node_process import Walkway, state_of
from tests.node_contract import contract

PERSONAS = set(contract.CONTRACT["definitions"]["persona"]["enum"])
# What `eval` keeps offline about a visit and must never leave the node: where the person
# walked, how they moved, who they were with.
OFFLINE_ONLY = {"trace", "group_tracks", "straightness", "stops", "speed"}


def _visits(probe: Any) -> list[dict[str, Any]]:
    return [e for e in probe.events.values() if e["type"] == "visit"]


DOOR_IN = {"line": "door", "direction": "in"}


def test_real_node_publishes_personas_groups_and_a_live_mix(
    walkway: Callable[..., Walkway],
) -> None:
    probe, _, node = walkway()

    # The clip loops; people leave when it starts again.
    probe.wait(lambda: len(_visits(probe)) >= 5, within_s=120)
    probe.wait(lambda: state_of(probe)["last_seq"] >= max(probe.seqs()), within_s=30)
    assert node.stop() == 0
    probe.wait(lambda: state_of(probe)["last_seq"] == max(probe.seqs()), within_s=30)

    visits = _visits(probe)
    assert len(visits) >= 5
    personas = [v["persona"] for v in visits]
    assert None not in personas
    assert set(personas) <= PERSONAS
    # The door is the node's entrance: whoever never came in through it only passed by, and
    # only those who came in are visitors.
    came_in = [v for v in visits if DOOR_IN in v.get("crossings", [])]
    assert all(v["persona"] == "passer_by" for v in visits if v not in came_in)
    assert all(1 <= v["group_size"] <= 50 for v in visits)

    state = state_of(probe)
    counters = state["counters"]
    shoppers = [v for v in visits if v["persona"] != "staff_like"]
    assert sum(counters["personas"].values()) == len(shoppers)
    assert counters["staff_visits"] == len(visits) - len(shoppers)
    assert counters["units"] <= len(shoppers)
    assert counters["visits"] == len([v for v in came_in if v["persona"] != "staff_like"])
    assert counters["groups"] <= counters["units"]
    assert set(state["live"]) == {"total", "zones"}
    description = contract.parse("description", probe.last("cam1/description") or b"")
    assert description["features"]["personas"] is True


def test_no_payload_identifies_a_person_or_links_two_visits(
    walkway: Callable[..., Walkway],
) -> None:
    probe, _, node = walkway()
    probe.wait(lambda: len(_visits(probe)) >= 5, within_s=120)
    assert node.stop() == 0

    visits = _visits(probe)
    tracks = [v["track"] for v in visits]
    assert len(tracks) == len(set(tracks))  # a track id belongs to one visit only
    for topic, payload, _retained in probe.messages:
        if not payload or topic.endswith(("/availability", "/description")):
            continue
        body = json.loads(payload)
        assert not OFFLINE_ONLY & _keys(body), topic
    for visit in visits:
        # Only what the contract allows, and nothing about how a person looks.
        assert set(visit) <= set(contract.CONTRACT["definitions"]["event_visit"]["properties"])
    live = state_of(probe).get("live", {})
    assert "track" not in json.dumps(live)  # the live mix is counts, never ids


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()
