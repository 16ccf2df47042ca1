"""Device triggers through the real broker: the automation editor lists a node's zones and
lines, and automations built on them run on what the node publishes — and only then."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

from custom_components.storefront import device_trigger
from custom_components.storefront.const import DOMAIN
from tests.integration.conftest import NodePublisher, device_of, publish_until, wait_for
from tests.node_contract import EXAMPLES


def state(total: int, window: int, counter: int) -> dict[str, Any]:
    occupancy = {"total": total, "zones": {"window": window, "counter": counter}}
    return {**EXAMPLES["state"], "occupancy": occupancy}


async def _node_device(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> str:
    node.publish("availability", "online", retain=True)
    node.publish("description", EXAMPLES["description"], retain=True)
    node.publish("state", state(1, 1, 0), retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    registry = er.async_get(hass)
    people = f"{store_entry.entry_id}_entrance_zone_window_people"
    await wait_for(hass, lambda: registry.async_get_entity_id("sensor", DOMAIN, people) is not None)
    device = device_of(hass, store_entry, "entrance")
    assert device is not None
    return device.id


async def test_the_editor_offers_each_zone_line_display_and_shelf(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    device_id = await _node_device(hass, store_entry, node)
    offered = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device_id)
    ours = sorted((t["type"], t.get("subtype", "")) for t in offered if t["domain"] == DOMAIN)
    assert ours == [
        ("crossing_in", "door"),
        ("crossing_out", "door"),
        ("display_watched", "window_display"),
        ("group_entered", ""),
        ("over_capacity", ""),
        ("persona_visit", "browser"),
        ("persona_visit", "focused_buyer"),
        ("persona_visit", "lingerer"),
        ("persona_visit", "passer_by"),
        ("product_returned", "coffee"),
        ("product_taken", "coffee"),
        ("stock_low", "coffee"),
        ("zone_entered", "counter"),
        ("zone_entered", "window"),
    ]
    hub_device = device_of(hass, store_entry)
    assert hub_device is not None
    assert await device_trigger.async_get_triggers(hass, hub_device.id) == []
    assert await device_trigger.async_get_triggers(hass, "no-such-device") == []


async def test_automations_run_on_what_the_node_publishes(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    device_id = await _node_device(hass, store_entry, node)

    def automation(name: str, trigger: dict[str, Any]) -> dict[str, Any]:
        return {
            "alias": name,
            "triggers": [
                {"platform": "device", "domain": DOMAIN, "device_id": device_id, **trigger}
            ],
            "actions": [{"event": "storefront_test_fired", "event_data": {"name": name}}],
        }

    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                automation("in", {"type": "crossing_in", "subtype": "door"}),
                automation("out_any_line", {"type": "crossing_out"}),
                automation("in_other_line", {"type": "crossing_in", "subtype": "back"}),
                automation("window", {"type": "zone_entered", "subtype": "window"}),
                automation("counter", {"type": "zone_entered", "subtype": "counter"}),
                automation("crowded", {"type": "over_capacity"}),
            ]
        },
    )
    fired: list[str] = []
    hass.bus.async_listen("storefront_test_fired", lambda e: fired.append(e.data["name"]))
    hub = store_entry.runtime_data.hub
    seen: list[int] = []
    hub.async_add_event_listener(lambda _node, event: seen.append(event["seq"]))

    first = {**EXAMPLES["event_crossing"], "seq": 1, "direction": "in"}
    await publish_until(hass, node, lambda: seen, ("event/crossing", first))
    await wait_for(hass, lambda: "in" in fired)
    node.publish("event/crossing", {**EXAMPLES["event_crossing"], "seq": 2, "direction": "out"})
    await wait_for(hass, lambda: "out_any_line" in fired)
    assert sorted(fired) == ["in", "out_any_line"]

    # A second shopper at the window: that zone's trigger fires, the counter's does not.
    node.publish("state", state(2, 2, 0), retain=True)
    await wait_for(hass, lambda: "window" in fired)
    node.publish("state", state(1, 1, 0), retain=True)  # someone left: nothing fires
    node.publish("state", state(2, 1, 1), retain=True)
    await wait_for(hass, lambda: "counter" in fired)
    assert fired.count("window") == 1

    # The owner lowers the capacity below the head count.
    number = er.async_get(hass).async_get_entity_id(
        "number", DOMAIN, f"{store_entry.entry_id}_entrance_capacity"
    )
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 2}, blocking=True
    )
    node.publish("state", state(3, 2, 1), retain=True)
    await wait_for(hass, lambda: "crowded" in fired)
    assert "in_other_line" not in fired
    assert fired.count("crowded") == 1


async def test_persona_and_group_triggers_run_on_what_the_node_publishes(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    device_id = await _node_device(hass, store_entry, node)
    await wait_for(
        hass,
        lambda: (
            hass.states.get("sensor.entrance_camera_group_visits_today") is not None
            and hass.states.get("sensor.entrance_camera_group_visits_today").state == "5"
        ),
    )

    def automation(name: str, trigger: dict[str, Any]) -> dict[str, Any]:
        base = {"platform": "device", "domain": DOMAIN, "device_id": device_id}
        return {
            "alias": name,
            "triggers": [{**base, **trigger}],
            "actions": [
                {
                    "event": "storefront_test_fired",
                    "event_data": {
                        "name": name,
                        "seq": "{{ trigger.event.data.seq if trigger.event is defined else 0 }}",
                    },
                }
            ],
        }

    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                automation("lingerer", {"type": "persona_visit", "subtype": "lingerer"}),
                automation("browser", {"type": "persona_visit", "subtype": "browser"}),
                automation("any_visit", {"type": "persona_visit"}),
                automation("group", {"type": "group_entered"}),
            ]
        },
    )
    fired: list[tuple[str, str]] = []
    hass.bus.async_listen(
        "storefront_test_fired", lambda e: fired.append((e.data["name"], str(e.data["seq"])))
    )
    hub = store_entry.runtime_data.hub
    seen: list[int] = []
    hub.async_add_event_listener(lambda _node, event: seen.append(event["seq"]))

    def visit(seq: int, persona: str, group_size: int = 1) -> dict[str, Any]:
        return {
            **EXAMPLES["event_visit"],
            "seq": seq,
            "track": seq,
            "persona": persona,
            "group_size": group_size,
        }

    await publish_until(hass, node, lambda: seen, ("event/visit", visit(1, "lingerer")))
    await wait_for(hass, lambda: ("lingerer", "1") in fired and ("any_visit", "1") in fired)
    node.publish("event/visit", visit(1, "lingerer"))  # a replay: nothing fires again
    node.publish("event/visit", visit(2, "passer_by"))
    await wait_for(hass, lambda: ("any_visit", "2") in fired)
    assert sorted(fired) == [("any_visit", "1"), ("any_visit", "2"), ("lingerer", "1")]

    # Two people who came together leave: their visits end, the node counts one more group.
    fired.clear()
    node.publish("event/visit", visit(3, "browser", group_size=2))
    node.publish("event/visit", visit(4, "browser", group_size=2))
    node.publish(
        "state",
        {**EXAMPLES["state"], "counters": {**EXAMPLES["state"]["counters"], "groups": 6}},
        retain=True,
    )
    await wait_for(hass, lambda: ("group", "0") in fired and ("browser", "4") in fired)
    # The next state changes nothing about groups: the trigger fires once per group.
    node.publish(
        "state", {**state(2, 1, 1), "counters": {**EXAMPLES["state"]["counters"], "groups": 6}}
    )
    await wait_for(
        hass, lambda: hass.states.get("sensor.entrance_camera_people_in_view").state == "2"
    )
    assert sorted(fired) == [
        ("any_visit", "3"),
        ("any_visit", "4"),
        ("browser", "3"),
        ("browser", "4"),
        ("group", "0"),
    ]


async def test_bad_trigger_configs_are_refused(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    device_id = await _node_device(hass, store_entry, node)
    base = {"platform": "device", "domain": DOMAIN, "device_id": device_id}
    with pytest.raises(InvalidDeviceAutomationConfig, match="names its zone"):
        await device_trigger.async_validate_trigger_config(hass, {**base, "type": "zone_entered"})
    with pytest.raises(Exception, match="type"):
        await device_trigger.async_validate_trigger_config(hass, {**base, "type": "dancing"})
    with pytest.raises(InvalidDeviceAutomationConfig, match=r"subtype. is one of passer_by"):
        await device_trigger.async_validate_trigger_config(
            hass, {**base, "type": "persona_visit", "subtype": "millionaire"}
        )
    info: Any = {"trigger_data": {}, "name": "test"}
    with pytest.raises(InvalidDeviceAutomationConfig, match="no sensor entity zone_attic_people"):
        await device_trigger.async_attach_trigger(
            hass, {**base, "type": "zone_entered", "subtype": "attic"}, _nothing, info
        )
    hub_device = device_of(hass, store_entry)
    assert hub_device is not None
    with pytest.raises(InvalidDeviceAutomationConfig, match="not a Storefront camera node"):
        await device_trigger.async_attach_trigger(
            hass, {**base, "device_id": hub_device.id, "type": "over_capacity"}, _nothing, info
        )
    with pytest.raises(InvalidDeviceAutomationConfig, match="no device"):
        await device_trigger.async_attach_trigger(
            hass, {**base, "device_id": "gone", "type": "over_capacity"}, _nothing, info
        )


async def _nothing(_run_variables: Any, _context: Any = None) -> None:
    """An action that is never reached."""
