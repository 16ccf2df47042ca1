"""Per display sensors from a node's retained state on the real broker: opportunities to see
and impressions always; watchers, attention, attraction and conversion only with the node's
attention on, the positive mood share only with its mood on."""

from __future__ import annotations

import copy

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.const import DOMAIN
from tests.integration.conftest import NodePublisher, publish_until, wait_for
from tests.integration.test_device_triggers import _node_device
from tests.integration.test_entities import DESCRIPTION, HEALTH, STATE, value
from tests.node_contract import EXAMPLES

IMPRESSION = EXAMPLES["event_impression"]
ATTENTION_ONLY = ("watchers", "attention", "attraction", "conversion")


def _publish(node: NodePublisher, attention: bool, mood: bool) -> None:
    description = copy.deepcopy(DESCRIPTION)
    description["features"] |= {"attention": attention, "mood": mood}
    node.publish("availability", "online", retain=True)
    node.publish("description", description, retain=True)
    node.publish("state", STATE, retain=True)
    node.publish("health", HEALTH, retain=True)


def _has(hass: HomeAssistant, entry: MockConfigEntry, what: str) -> bool:
    unique_id = f"{entry.entry_id}_entrance_display_window_display_{what}"
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id) is not None


@pytest.mark.parametrize("attention", [False, True], ids=["default", "attention_and_mood"])
async def test_display_sensors_follow_the_nodes_features(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher, attention: bool
) -> None:
    _publish(node, attention=attention, mood=attention)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: "entrance" in hub.nodes and hub.nodes["entrance"].counts)
    await hass.async_block_till_done()

    # The contract's example state: 120 passers, 37 impressions, 21 watchers, 240.5 s dwell,
    # 64 s attention, 40 % positive over 20 moods.
    key = "entrance_display_window_display"
    assert value(hass, store_entry, f"{key}_passers") == "120"
    assert value(hass, store_entry, f"{key}_impressions") == "37"
    for what in ATTENTION_ONLY:
        assert _has(hass, store_entry, what) is attention
    assert _has(hass, store_entry, "positive") is attention
    if attention:
        assert value(hass, store_entry, f"{key}_watchers") == "21"
        assert float(value(hass, store_entry, f"{key}_attention")) == 64.0
        assert value(hass, store_entry, f"{key}_attraction") == "26.6"  # 64 / 240.5
        assert value(hass, store_entry, f"{key}_conversion") == "17.5"  # 21 / 120
        assert value(hass, store_entry, f"{key}_positive") == "40.0"


async def test_impression_event_entity_fires_watcher_with_the_offer(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    _publish(node, attention=True, mood=False)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    registry = er.async_get(hass)
    key = f"{store_entry.entry_id}_entrance_display_window_display_impression"
    await wait_for(hass, lambda: registry.async_get_entity_id("event", DOMAIN, key) is not None)
    entity_id = registry.async_get_entity_id("event", DOMAIN, key)
    assert entity_id is not None
    impression = {**IMPRESSION, "stream": "abab0000cdcd1111", "seq": 1}

    def fired() -> object:
        state = hass.states.get(entity_id)
        return state is not None and state.attributes.get("event_type")

    await publish_until(hass, node, fired, ("event/impression", impression))
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["event_type"] == "watcher"
    assert (state.attributes["offer"], state.attributes["attention_s"]) == ("winter_sale", 2.5)
    assert "mood" not in state.attributes


async def test_someone_watching_the_display_triggers_an_automation(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    device_id = await _node_device(hass, store_entry, node)
    trigger = {"platform": "device", "domain": DOMAIN, "device_id": device_id}
    automations = [
        {
            "alias": name,
            "triggers": [{**trigger, "type": "display_watched", **subtype}],
            "actions": [{"event": "storefront_test_fired", "event_data": {"name": name}}],
        }
        for name, subtype in (
            ("window", {"subtype": "window_display"}),
            ("any", {}),
            ("other", {"subtype": "door_screen"}),
        )
    ]
    assert await async_setup_component(hass, "automation", {"automation": automations})
    fired: list[str] = []
    hass.bus.async_listen("storefront_test_fired", lambda e: fired.append(e.data["name"]))
    seen: list[int] = []
    store_entry.runtime_data.hub.async_add_event_listener(lambda _n, e: seen.append(e["seq"]))

    passer_by = {**IMPRESSION, "seq": 1, "looked": False}
    await publish_until(hass, node, lambda: seen, ("event/impression", passer_by))
    assert seen
    assert fired == []  # stayed, but did not look
    node.publish("event/impression", {**IMPRESSION, "seq": 2, "looked": True})
    await wait_for(hass, lambda: len(fired) == 2)
    assert sorted(fired) == ["any", "window"]
