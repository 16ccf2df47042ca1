"""What a display learnt survives a real Home Assistant restart.

A real `hass -c` (tests/real_ha.py), the real mosquitto, a node played with paho from the
contract's examples (its description has the display `window_display`). The owner pins an offer
through the select, impressions arrive for it, the recommended-offer sensor counts them; then
Home Assistant is stopped with SIGTERM, as a service manager stops it (it fires its stop and
final-write events and unloads no config entry: reloading the entry, as
tests/integration/test_display_offers.py does, is not the same path), and started again. The pin,
the automatic switch, the figures and the policy's learnt state are all back, and the pinned
offer is still credited with the impressions that follow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custom_components.storefront.contract import CONTRACT
from storefront_dev.servers import Mosquitto
from tests import real_ha
from tests.integration.conftest import NodePublisher
from tests.node_contract import impression
from tests.real_ha import HassProcess, wait, ws_answers

EXAMPLES = {k: CONTRACT["definitions"][k]["examples"][0] for k in ("description", "state")}
HEALTH = CONTRACT["definitions"]["health"]["examples"][0]
DISPLAY = "entrance_display_window_display"  # the example node's one display, as keyed
OFFERS = [
    {"title": "Hot coffee", "pitch": "Good {part_of_day}!", "tags": ["morning"]},
    {"title": "Winter sale", "pitch": "A third off for {audience}.", "tags": ["evening"]},
    {"title": "Family bundle", "tags": ["group"], "personas": ["group"]},
]
PINNED = ("winter_sale", "Winter sale")


@pytest.fixture
def store(socket_enabled: None, mosquitto: Mosquitto, tmp_path: Path) -> Iterator[HassProcess]:
    with real_ha.home_assistant(tmp_path, mosquitto.port) as hass:
        yield hass


@pytest.fixture
def node(socket_enabled: None, mosquitto: Mosquitto) -> Iterator[NodePublisher]:
    """The node `entrance` on the broker: online, described, with its state and health."""
    publisher = NodePublisher(mosquitto.port)
    publisher.publish("availability", "online", retain=True)
    publisher.publish("description", EXAMPLES["description"], retain=True)
    publisher.publish("state", EXAMPLES["state"], retain=True)
    publisher.publish("health", HEALTH, retain=True)
    yield publisher
    publisher.clear_retained("availability", "description", "state", "health")
    publisher.close()


def entity_ids(hass: HassProcess) -> dict[str, str]:
    """{what: entity id} of the display's entities (offer, automatic, recommended)."""
    listing = {"type": "config/entity_registry/list"}
    answer = asyncio.run(ws_answers(hass.ha.url, hass.ha.state["token"], [listing]))[0]
    prefix = f"{hass.entry_id}_{DISPLAY}_"
    return {
        e["unique_id"].removeprefix(prefix): e["entity_id"]
        for e in answer["result"]
        if e["platform"] == "storefront" and e["unique_id"].startswith(prefix)
    }


def state(hass: HassProcess, entity_id: str) -> dict[str, Any]:
    """The entity's state; state None until Home Assistant has the entity."""
    found = {s["entity_id"]: s for s in hass.ha.states()}
    return dict(found.get(entity_id, {"state": None, "attributes": {}}))


def figures(hass: HassProcess, sensor: str) -> dict[str, Any]:
    return dict(state(hass, sensor)["attributes"].get("figures") or {})


def learnt(hass: HassProcess) -> dict[str, Any]:
    """The store's offer state from its diagnostics (what the owner would download)."""
    answer = hass.ha.call("GET", f"/api/diagnostics/config_entry/{hass.entry_id}")
    return dict(answer["data"]["offers"])


def test_a_pin_its_figures_and_the_learning_survive_a_home_assistant_restart(
    store: HassProcess, node: NodePublisher
) -> None:
    store.ha.ensure_offers(store.entry_id, OFFERS)
    entities = wait(
        lambda: (
            (found := entity_ids(store)).keys() >= {"offer", "automatic", "recommended"} and found
        ),
        90,
        "the display's offer select, switch and sensor",
    )
    select, switch, sensor = entities["offer"], entities["automatic"], entities["recommended"]
    wait(lambda: state(store, select)["state"] != "unavailable", 60, "the select available")

    store.ha.call(
        "POST", "/api/services/select/select_option", {"entity_id": select, "option": PINNED[1]}
    )
    assert state(store, select)["state"] == PINNED[1]
    assert state(store, select)["attributes"]["pinned"] is True
    assert state(store, switch)["state"] == "off"
    for seq, looked in ((7001, True), (7002, False), (7003, True)):
        node.publish("event/impression", impression(seq, looked=looked))
    wait(
        lambda: figures(store, sensor).get(PINNED[0], {}).get("impressions") == 3,
        30,
        "three impressions of the pinned offer",
    )
    before = figures(store, sensor)
    assert before[PINNED[0]]["watchers"] == 2
    assert before[PINNED[0]]["engagement_rate"] == pytest.approx(0.667)
    kept = learnt(store)
    rewards = {(o, b): (s, f) for o, b, s, f in kept["policy"]["counts"]}
    assert sum(s for (o, _), (s, _) in rewards.items() if o == PINNED[0]) == 2
    assert sum(f for (o, _), (_, f) in rewards.items() if o == PINNED[0]) == 1

    # A real stop (at once: the state's delayed save is still pending), then a start.
    assert store.stop() == 0, store.log_tail()
    store.start()
    assert store.ha.ensure_token() == store.ha.state["token"]  # the owner's token still works
    wait(lambda: state(store, select)["state"] == PINNED[1], 90, "the pinned offer back")
    assert state(store, select)["attributes"]["pinned"] is True
    assert state(store, switch)["state"] == "off"
    assert figures(store, sensor) == before
    after = learnt(store)
    assert after["policy"]["counts"] == kept["policy"]["counts"]
    assert after["displays"] == kept["displays"]
    assert after["policy"]["decisions"] == kept["policy"]["decisions"] > 0

    # The pinned offer is still on screen for the policy too: what follows is credited to it.
    node.publish("event/impression", impression(7004, looked=True))
    wait(
        lambda: figures(store, sensor).get(PINNED[0], {}).get("impressions") == 4,
        30,
        "the impression after the restart credited to the pinned offer",
    )
    assert figures(store, sensor)[PINNED[0]]["watchers"] == 3
    counts = learnt(store)["policy"]["counts"]
    assert sum(s for o, _, s, _ in counts if o == PINNED[0]) == 3
