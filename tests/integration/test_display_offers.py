"""One device per display: the offer on screen (pinned by the owner or chosen for the audience),
automatic choice, the recommendation and why, the node told what is on screen, impressions
credited, an out-of-stock product's offer never shown, and all of it kept across a restart."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront import contract, identifiers
from custom_components.storefront.const import DOMAIN
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import ROOT, NodePublisher, add_store_entry, wait_for
from tests.integration.test_entities import entity_id, publish_node
from tests.node_contract import EXAMPLES, impression

STATE = EXAMPLES["state"]
OFFERS = [
    {
        "offer_id": "coffee",
        "title": "Hot coffee",
        "pitch": "Good {part_of_day}!",
        "products": ["coffee"],
        "image": "/local/coffee.png",
    },
    {"offer_id": "winter_sale", "title": "Winter sale", "tags": ["evening"]},
]

KEY = "entrance_display_window_display"  # the one display of the published node


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    return add_store_entry(
        hass,
        subentries_data=[
            {"data": o, "subentry_type": "offer", "title": o["title"], "unique_id": o["offer_id"]}
            for o in OFFERS
        ],
    )


def _state(hass: HomeAssistant, entity: str) -> Any:
    state = hass.states.get(entity)
    assert state is not None
    return state


def _commands(probe: Probe) -> list[dict[str, Any]]:
    return [contract.parse("command", m[1]) for m in probe.messages]


async def test_a_display_device_shows_an_offer_and_the_owner_can_pin_one(
    hass: HomeAssistant, node: NodePublisher, mqtt_broker: Mosquitto
) -> None:
    entry = _entry(hass)
    probe = Probe(mqtt_broker.port, topic=f"{ROOT}/entrance/command", client_id="offer-probe")
    try:
        assert await hass.async_add_executor_job(probe.subscribed.wait, 10)
        select = await _offer_select(hass, entry, node)
        await wait_for(hass, lambda: _state(hass, select).state in {"Hot coffee", "Winter sale"})
        assert sorted(_state(hass, select).attributes["options"]) == ["Hot coffee", "Winter sale"]
        device = next(
            d
            for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
            if identifiers.display_device(entry.entry_id, "entrance", "window_display")
            in d.identifiers
        )
        assert device.name == "Window display"
        await hass.async_add_executor_job(probe.wait, lambda: len(probe.messages) >= 1)

        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": select, "option": "Winter sale"},
            blocking=True,
        )
        assert _state(hass, select).state == "Winter sale"
        assert _state(hass, select).attributes["pinned"] is True
        switch = entity_id(hass, entry, f"{KEY}_automatic", "switch")
        assert _state(hass, switch).state == "off"
        await hass.async_add_executor_job(
            probe.wait,
            lambda: (
                {"display": "window_display", "offer": "winter_sale"}
                in [c.get("args") for c in _commands(probe)]
            ),
        )

        node.publish("event/impression", impression(7001, looked=True))
        node.publish("event/impression", impression(7002, looked=False))
        sensor = entity_id(hass, entry, f"{KEY}_recommended")
        await wait_for(
            hass,
            lambda: (
                _state(hass, sensor).attributes["figures"].get("winter_sale", {}).get("impressions")
                == 2
            ),
        )
        figures = _state(hass, sensor).attributes["figures"]["winter_sale"]
        assert figures["watchers"] == 1
        assert figures["engagement_rate"] == 0.5
        shown = figures["shown"]
        board = entry.runtime_data.offers
        learnt = board.policy.to_dict()["counts"]

        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        board = entry.runtime_data.offers
        assert board.policy.to_dict()["counts"] == learnt
        await wait_for(hass, lambda: _state(hass, select).state == "Winter sale")
        assert _state(hass, switch).state == "off"
        # Still on screen for the policy too: the next impression is credited to it.
        node.publish("event/impression", impression(7003, looked=True))
        await wait_for(
            hass,
            lambda: _state(hass, sensor).attributes["figures"]["winter_sale"]["impressions"] == 3,
        )
        # ...and not counted as shown again: the reload put nothing new on screen.
        assert _state(hass, sensor).attributes["figures"]["winter_sale"]["shown"] == shown
    finally:
        probe.close()


async def _offer_select(hass: HomeAssistant, entry: MockConfigEntry, node: NodePublisher) -> str:
    """The node described, the store set up, its display's offer select made: its entity id."""
    publish_node(node)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: _has(hass, entry, KEY))
    return entity_id(hass, entry, f"{KEY}_offer", "select")


def _has(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> bool:
    return (
        er.async_get(hass).async_get_entity_id("select", DOMAIN, f"{entry.entry_id}_{key}_offer")
        is not None
    )


async def test_an_offer_for_an_empty_shelf_is_never_put_on_screen(
    hass: HomeAssistant, node: NodePublisher
) -> None:
    entry = _entry(hass)
    empty = copy.deepcopy(STATE)
    empty["stock"] = {"coffee": {"level": 0.0, "status": "empty", "taken": 9, "returned": 0}}
    publish_node(node, empty)
    assert await hass.config_entries.async_setup(entry.entry_id)
    board = entry.runtime_data.offers
    await wait_for(hass, lambda: "entrance/window_display" in board.slots)
    for _ in range(30):
        board.set_auto("entrance", "window_display", True)
        assert board.slots["entrance/window_display"].on_screen == "winter_sale"


async def test_offer_changed_is_a_device_trigger_of_the_display(
    hass: HomeAssistant, node: NodePublisher
) -> None:
    from homeassistant.components import automation
    from homeassistant.components.device_automation import DeviceAutomationType
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import async_get_device_automations

    entry = _entry(hass)
    select = await _offer_select(hass, entry, node)
    await wait_for(hass, lambda: _state(hass, select).state in {"Hot coffee", "Winter sale"})
    device = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if identifiers.display_device(entry.entry_id, "entrance", "window_display") in d.identifiers
    )
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = [t for t in triggers if t["domain"] == DOMAIN]
    assert [t["type"] for t in ours] == ["offer_changed"]
    fired: list[str] = []
    hass.services.async_register("test", "offer", lambda call: fired.append(call.data["to"]))
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "trigger": {**ours[0], "metadata": {}},
                "action": {
                    "service": "test.offer",
                    "data": {"to": "{{ trigger.to_state.state }}"},
                },
            }
        },
    )
    first = _state(hass, select).state
    second = "Winter sale" if first == "Hot coffee" else "Hot coffee"
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": second}, blocking=True
    )
    await wait_for(hass, lambda: fired == [second])
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": second}, blocking=True
    )
    await hass.async_block_till_done()
    assert fired == [second]


async def test_a_promoted_product_taken_rewards_the_offer_and_the_switch_hands_back(
    hass: HomeAssistant, node: NodePublisher
) -> None:
    entry = _entry(hass)
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType({"offer_id": "broken", "title": ""}),
            subentry_type="offer",
            title="Broken",
            unique_id="broken",
        ),
    )
    select = await _offer_select(hass, entry, node)
    board = entry.runtime_data.offers
    assert set(board.catalogue()) == {"coffee", "winter_sale"}  # the broken one is skipped
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "Hot coffee"}, blocking=True
    )
    showing = board.ledger.on_screen["entrance/window_display"]
    before = board.policy.posterior("coffee", showing.bucket)
    taken = {
        "schema": 1, "stream": "0ff18a0ff18a0ff2", "seq": 1, "ts": showing.since + 60.0,
        "type": "shelf", "shelf": "counter", "change": "taken", "level": 0.5,
        "product": "coffee",
    }  # fmt: skip
    node.publish("event/shelf", taken)
    await wait_for(hass, lambda: board.policy.posterior("coffee", showing.bucket) != before)
    after = board.policy.posterior("coffee", showing.bucket)
    assert after[0] > before[0]
    switch = entity_id(hass, entry, f"{KEY}_automatic", "switch")
    assert _state(hass, switch).state == "off"
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert _state(hass, switch).state == "on"
    assert board.slots["entrance/window_display"].decision is not None
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert _state(hass, switch).state == "off"
