"""Shelf entities from a node's messages on the real broker: stock per shelf and product, takes
and returns today, low stock, the shelf change event entity, the recalibrate button and the
shelf device triggers."""

from __future__ import annotations

import copy
import json
from typing import Any

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

from custom_components.storefront import contract
from custom_components.storefront.const import DOMAIN
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import NodePublisher, publish_until, wait_for
from tests.integration.test_device_triggers import _node_device
from tests.integration.test_entities import STATE, entity_id, value
from tests.node_contract import EXAMPLES

SHELF_EVENT = EXAMPLES["event_shelf"]
COFFEE = "entrance_shelf_coffee"


def stock(level: float, status: str, espresso: float, espresso_status: str) -> dict[str, Any]:
    """The contract's example state with the coffee shelf at `level` and espresso at its own."""
    state = copy.deepcopy(STATE)
    state["stock"] = {
        "coffee": {
            "level": level,
            "status": status,
            "taken": 5,
            "returned": 1,
            "products": {"espresso": {"level": espresso, "status": espresso_status}},
        }
    }
    return state


async def publish_until_heard(
    hass: HomeAssistant, entry: MockConfigEntry, node: NodePublisher, event: Any
) -> None:
    """HA's new subscription takes a moment: repeat the first event until the hub counts it."""
    seen: list[int] = []
    hub = entry.runtime_data.hub
    remove = hub.async_add_event_listener(lambda _n, e: seen.append(e["seq"]))
    await publish_until(hass, node, lambda: seen, ("event/shelf", event))
    remove()
    assert seen, "the hub never heard the shelf event"


async def test_stock_sensors_and_low_stock_follow_the_state(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    await _node_device(hass, store_entry, node)
    node.publish("state", stock(0.75, "ok", 0.5, "ok"), retain=True)
    espresso = f"{COFFEE}_product_espresso_stock"
    await wait_for(hass, lambda: value(hass, store_entry, espresso) == "50.0")
    assert value(hass, store_entry, f"{COFFEE}_stock") == "75.0"
    assert value(hass, store_entry, f"{COFFEE}_taken") == "5"
    assert value(hass, store_entry, f"{COFFEE}_returned") == "1"
    assert value(hass, store_entry, f"{COFFEE}_low", "binary_sensor") == "off"
    stock_state = hass.states.get(entity_id(hass, store_entry, f"{COFFEE}_stock"))
    assert stock_state is not None
    assert stock_state.attributes["unit_of_measurement"] == "%"
    assert stock_state.name == "Entrance camera Coffee shelf stock"

    # Espresso runs low while the shelf as a whole is still fine: only its own sensor turns on.
    node.publish("state", stock(0.6, "ok", 0.1, "low"), retain=True)
    espresso_low = f"{COFFEE}_product_espresso_low"
    await wait_for(hass, lambda: value(hass, store_entry, espresso_low, "binary_sensor") == "on")
    assert value(hass, store_entry, f"{COFFEE}_low", "binary_sensor") == "off"
    node.publish("state", stock(0.0, "empty", 0.0, "empty"), retain=True)
    await wait_for(hass, lambda: value(hass, store_entry, f"{COFFEE}_low", "binary_sensor") == "on")
    low = hass.states.get(entity_id(hass, store_entry, f"{COFFEE}_low", "binary_sensor"))
    assert low is not None
    assert low.attributes["status"] == "empty"


async def test_shelf_change_event_entity_fires_with_the_product(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    await _node_device(hass, store_entry, node)
    event = {**SHELF_EVENT, "seq": 1, "count": 1, "magnitude": 0.25}
    await publish_until_heard(hass, store_entry, node, event)
    state = hass.states.get(entity_id(hass, store_entry, f"{COFFEE}_change", "event"))
    assert state is not None
    assert state.attributes["event_type"] == "taken"
    assert (state.attributes["product"], state.attributes["count"]) == ("espresso", 1)
    assert state.attributes["level"] == 0.75

    # A replay of the same event changes nothing; a return is a new event.
    fired_at = state.state
    node.publish("event/shelf", event)
    node.publish("event/shelf", {**event, "seq": 2, "change": "returned", "level": 1.0})
    await wait_for(
        hass,
        lambda: (
            (s := hass.states.get(state.entity_id)) is not None
            and s.attributes["event_type"] == "returned"
        ),
    )
    assert fired_at != hass.states.get(state.entity_id).state  # type: ignore[union-attr]


async def test_recalibrate_button_sends_the_shelf(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher, mqtt_broker: Mosquitto
) -> None:
    await _node_device(hass, store_entry, node)
    button = entity_id(hass, store_entry, f"{COFFEE}_recalibrate", "button")
    probe = Probe(mqtt_broker.port, topic="storefront/entrance/command", client_id="shelf-probe")
    try:
        assert await hass.async_add_executor_job(probe.subscribed.wait, 10)
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
        await hass.async_add_executor_job(probe.wait, lambda: len(probe.messages) == 1)
    finally:
        probe.close()
    body = contract.parse("command", probe.messages[0][1])
    assert (body["command"], body["args"]) == ("recalibrate_shelf", {"shelf": "coffee"})
    assert json.loads(probe.messages[0][1])["schema"] == 1


async def test_shelf_triggers_run_automations(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    device_id = await _node_device(hass, store_entry, node)
    offered = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device_id)
    shelf_triggers = sorted(
        (t["type"], t["subtype"]) for t in offered if t["type"].startswith(("product", "stock"))
    )
    assert shelf_triggers == [
        ("product_returned", "coffee"),
        ("product_taken", "coffee"),
        ("stock_low", "coffee"),
    ]
    trigger = {"platform": "device", "domain": DOMAIN, "device_id": device_id}
    automations = [
        {
            "alias": name,
            "triggers": [{**trigger, **extra}],
            "actions": [{"event": "storefront_test_fired", "event_data": {"name": name}}],
        }
        for name, extra in (
            ("taken", {"type": "product_taken", "subtype": "coffee"}),
            ("taken_any", {"type": "product_taken"}),
            ("taken_tea", {"type": "product_taken", "subtype": "tea"}),
            ("returned", {"type": "product_returned", "subtype": "coffee"}),
            ("low", {"type": "stock_low", "subtype": "coffee"}),
        )
    ]
    assert await async_setup_component(hass, "automation", {"automation": automations})
    fired: list[str] = []
    hass.bus.async_listen("storefront_test_fired", lambda e: fired.append(e.data["name"]))

    await publish_until_heard(hass, store_entry, node, {**SHELF_EVENT, "seq": 1})
    await wait_for(hass, lambda: len(fired) == 2)
    assert sorted(fired) == ["taken", "taken_any"]
    node.publish("event/shelf", {**SHELF_EVENT, "seq": 2, "change": "returned"})
    await wait_for(hass, lambda: "returned" in fired)
    node.publish("state", stock(0.2, "low", 0.2, "low"), retain=True)
    await wait_for(hass, lambda: "low" in fired)
    assert "taken_tea" not in fired
    assert fired.count("taken") == 1
