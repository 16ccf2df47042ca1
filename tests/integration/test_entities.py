"""Entities from real node payloads on the real broker: they appear, update, survive restarts
of Home Assistant and of the broker with correct counts, and keep last good values."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.storefront.const import DOMAIN
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import (
    NodePublisher,
    device_of,
    entity_of,
    has_node,
    set_up,
    wait_for,
)
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]
STATE = EXAMPLES["state"]
HEALTH = EXAMPLES["health"]
PERSONAS = ("passer_by", "browser", "focused_buyer", "lingerer")  # a real node's shoppers


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, key: str, domain: str = "sensor") -> str:
    found = entity_of(hass, entry, key, domain)
    assert found is not None, f"no {domain} entity for {key}"
    return found


def value(hass: HomeAssistant, entry: MockConfigEntry, key: str, domain: str = "sensor") -> str:
    state = hass.states.get(entity_id(hass, entry, key, domain))
    assert state is not None
    return state.state


def shown(
    hass: HomeAssistant, entry: MockConfigEntry, keys: Iterable[str], domain: str = "sensor"
) -> dict[str, str]:
    """The state of each entity, by key."""
    return {key: value(hass, entry, key, domain) for key in keys}


def publish_node(node: NodePublisher, state: dict[str, Any] | None = None) -> None:
    """The example node, online with its description, state (the example's unless given) and
    health."""
    node.announce(DESCRIPTION, state or STATE, HEALTH)


async def test_entities_appear_and_follow_the_node(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    publish_node(node)
    await set_up(hass, store_entry, has_node("entrance", "health"))
    await hass.async_block_till_done()

    sensors = {
        "entrance_people": "3",
        "entrance_zone_window_people": "1",
        "entrance_zone_counter_people": "2",
        "entrance_line_door_in": "42",
        "entrance_line_door_out": "39",
        "entrance_visitors_today": "40",
        "entrance_zone_window_dwell": "18.4",
        "entrance_camera": "ok",
        "entrance_queue_depth": "0",
        "store_people": "3",
        "store_footfall_in": "42",
        "store_rejected": "0",
    }
    assert shown(hass, store_entry, sensors) == sensors
    binary = {"entrance_connectivity": "on", "entrance_zone_window_occupied": "on"}
    assert shown(hass, store_entry, binary, "binary_sensor") == binary

    names = {
        hass.states.get(entity_id(hass, store_entry, key)).name  # type: ignore[union-attr]
        for key in ("entrance_line_door_in", "entrance_zone_window_dwell")
    }
    assert names == {"Entrance camera Front door in today", "Entrance camera Window average dwell"}
    device = device_of(hass, store_entry, "entrance")
    assert device is not None
    assert device.model == "ssdlite_mobilenet_v2_person"
    assert device.sw_version == "0.1.0"
    hub_device = device_of(hass, store_entry)
    assert hub_device is not None
    assert device.via_device_id == hub_device.id

    # A new state moves the numbers; the window empties.
    newer = copy.deepcopy(STATE)
    newer["occupancy"] = {"total": 2, "zones": {"window": 0, "counter": 2}}
    newer["counters"]["lines"]["door"]["in"] = 43
    node.publish("state", newer, retain=True)
    await wait_for(hass, lambda: value(hass, store_entry, "entrance_line_door_in") == "43")
    assert value(hass, store_entry, "entrance_zone_window_occupied", "binary_sensor") == "off"

    # A broken payload changes nothing, and is counted.
    node.publish("state", b'{"schema": 1, "occupancy": {"total": -4}}')
    await wait_for(hass, lambda: value(hass, store_entry, "store_rejected") == "1")
    assert value(hass, store_entry, "entrance_people") == "2"

    # The node goes offline (its Last Will): its entities become unavailable.
    node.publish("availability", "offline", retain=True)
    await wait_for(hass, lambda: value(hass, store_entry, "entrance_people") == STATE_UNAVAILABLE)
    assert value(hass, store_entry, "entrance_connectivity", "binary_sensor") == "off"
    assert value(hass, store_entry, "store_people") == "0"


async def test_a_second_node_is_added_without_reload(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher, mqtt_broker: Mosquitto
) -> None:
    publish_node(node)
    await set_up(hass, store_entry, has_node("entrance"))
    back = NodePublisher(mqtt_broker.port, node_id="backroom")
    try:
        other = {
            **DESCRIPTION,
            "node_id": "backroom",
            "name": "Back room",
            "lines": [{**DESCRIPTION["lines"][0], "entrance": False}],
        }
        back.announce(other, STATE)
        await wait_for(
            hass,
            lambda: (
                er.async_get(hass).async_get_entity_id(
                    "sensor", DOMAIN, f"{store_entry.entry_id}_backroom_people"
                )
                is not None
            ),
        )
        await wait_for(hass, lambda: value(hass, store_entry, "store_people") == "6")
        # Only entrance lines count as the store's footfall.
        assert value(hass, store_entry, "store_footfall_in") == "42"
    finally:
        back.clear_retained("availability", "description", "state")
        back.close()


async def test_counts_survive_restarts_of_home_assistant_and_the_broker(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher, mqtt_broker: Mosquitto
) -> None:
    births = Probe(mqtt_broker.port, topic="homeassistant/status", client_id="birth-probe")
    publish_node(node)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    await wait_for(
        hass,
        lambda: (
            hass.states.get("sensor.entrance_camera_front_door_in_today") is not None
            and value(hass, store_entry, "entrance_line_door_in") == "42"
        ),
    )

    # Home Assistant restarts: the retained state brings the same counts back.
    assert await hass.config_entries.async_unload(store_entry.entry_id)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    await wait_for(hass, lambda: value(hass, store_entry, "entrance_line_door_in") == "42")

    # The broker restarts (persistence on): the retained state survives; nothing is zeroed.
    # (First let Home Assistant's MQTT client announce itself, or its pending birth message
    # fails when the broker goes away.)
    await wait_for(hass, lambda: births.last("homeassistant/status") == b"online", within_s=30)
    births.messages.clear()
    mqtt_broker.stop()
    mqtt_broker.start()
    newer = copy.deepcopy(STATE)
    newer["counters"]["lines"]["door"]["in"] = 44
    node.publish("state", newer, retain=True)  # the node's client reconnects and publishes
    try:
        await wait_for(
            hass, lambda: value(hass, store_entry, "entrance_line_door_in") == "44", within_s=30
        )
        assert value(hass, store_entry, "entrance_visitors_today") == "40"
        # Let Home Assistant's MQTT client finish re-announcing itself before the test ends.
        await wait_for(hass, lambda: births.last("homeassistant/status") == b"online", within_s=30)
    finally:
        births.close()


@pytest.mark.parametrize(
    ("key", "object_id", "restored", "unit", "reported"),
    [
        ("line_door_in", "front_door_in_today", 41, "people", "42"),
        ("groups_today", "group_visits_today", 4, "groups", "5"),
    ],
    ids=["footfall", "groups"],
)
async def test_counts_today_are_restored_until_the_node_reports(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    key: str,
    object_id: str,
    restored: int,
    unit: str,
    reported: str,
) -> None:
    object_id = f"entrance_camera_{object_id}"
    entity = f"sensor.{object_id}"
    unique_id = f"{store_entry.entry_id}_entrance_{key}"
    er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, unique_id, suggested_object_id=object_id
    )
    last = {"native_value": restored, "native_unit_of_measurement": unit}
    mock_restore_cache_with_extra_data(hass, [(State(entity, str(restored)), last)])
    node.announce()  # no state yet
    # Both retained messages are in (they may arrive in either order), the entity is written.
    await set_up(
        hass,
        store_entry,
        lambda hub: (
            "entrance" in hub.nodes
            and hub.nodes["entrance"].online
            and hass.states.get(entity) is not None
        ),
    )
    await hass.async_block_till_done()
    assert hass.states.get(entity).state == str(restored)  # type: ignore[union-attr]
    node.publish("state", STATE, retain=True)
    await wait_for(hass, lambda: hass.states.get(entity).state == reported)  # type: ignore[union-attr]


async def test_over_capacity_follows_the_capacity_the_owner_sets(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    publish_node(node)  # the description says capacity 25; the state has 3 people in view
    ready = has_node("entrance", "state")
    await set_up(hass, store_entry, lambda hub: ready(hub) and "entrance" in hub.capacities)
    await hass.async_block_till_done()
    capacity = entity_id(hass, store_entry, "entrance_capacity", "number")
    assert hass.states.get(capacity).state == "25.0"  # type: ignore[union-attr]
    assert value(hass, store_entry, "entrance_over_capacity", "binary_sensor") == "off"

    await hass.services.async_call(
        "number", "set_value", {"entity_id": capacity, "value": 2}, blocking=True
    )
    assert value(hass, store_entry, "entrance_over_capacity", "binary_sensor") == "on"

    # The owner's capacity is kept across a restart of the store.
    assert await hass.config_entries.async_unload(store_entry.entry_id)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    await wait_for(hass, lambda: store_entry.runtime_data.hub.capacities.get("entrance") == 2)


async def test_persona_groups_and_staff_sensors_follow_the_node(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    publish_node(node)  # the example node classifies personas (features.personas)
    await set_up(hass, store_entry, has_node("entrance", "state"))
    await wait_for(hass, lambda: value(hass, store_entry, "entrance_units_today") == "34")

    # Today's shopper visits per persona (40 in all) and their shares; staff apart.
    today = {p: value(hass, store_entry, f"entrance_persona_{p}_today") for p in PERSONAS}
    assert today == {"passer_by": "12", "browser": "20", "focused_buyer": "8", "lingerer": "0"}
    share = {p: value(hass, store_entry, f"entrance_persona_{p}_share") for p in PERSONAS}
    assert share == {
        "passer_by": "30.0",
        "browser": "50.0",
        "focused_buyer": "20.0",
        "lingerer": "0.0",
    }
    # Who is in view now: a browser and a lingerer (a tie goes to the contract's order).
    sensors = {
        "entrance_groups_today": "5",
        "entrance_staff_visits_today": "3",
        "entrance_staff_now": "1",
        "entrance_persona_now": "browser",
        "entrance_zone_window_persona_now": "lingerer",
        "entrance_zone_counter_persona_now": "browser",
    }
    assert shown(hass, store_entry, sensors) == sensors
    registry = er.async_get(hass)
    for simulated_or_staff in ("group", "staff_like"):  # no sensor: never a shopper persona
        unique_id = f"{store_entry.entry_id}_entrance_persona_{simulated_or_staff}_today"
        assert registry.async_get_entity_id("sensor", DOMAIN, unique_id) is None
    names = {
        hass.states.get(entity_id(hass, store_entry, key)).name  # type: ignore[union-attr]
        for key in ("entrance_persona_passer_by_share", "entrance_zone_window_persona_now")
    }
    assert names == {
        "Entrance camera Passers-by share today",
        "Entrance camera Window main persona now",
    }

    # The shop empties and a new group's visit ends: the mix and the counts move with the state.
    newer = copy.deepcopy(STATE)
    newer["counters"]["personas"]["browser"] = 22
    newer["counters"] |= {"units": 35, "groups": 6}
    newer["occupancy"] = {"total": 0, "zones": {"window": 0, "counter": 0}, "staff": 0}
    newer["live"] = {"total": {}, "zones": {}}
    node.publish("state", newer, retain=True)
    await wait_for(hass, lambda: value(hass, store_entry, "entrance_groups_today") == "6")
    assert value(hass, store_entry, "entrance_persona_browser_today") == "22"
    assert value(hass, store_entry, "entrance_persona_browser_share") == "52.4"
    assert value(hass, store_entry, "entrance_persona_now") == "none"
    assert value(hass, store_entry, "entrance_staff_now") == "0"


async def test_nodes_without_personas_have_no_persona_sensors(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    description = copy.deepcopy(DESCRIPTION)
    description["features"]["personas"] = False
    state = copy.deepcopy(STATE)
    for key in ("personas", "units", "groups", "staff_visits"):
        del state["counters"][key]
    del state["live"], state["occupancy"]["staff"]
    node.announce(description, state)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    visitors = f"{store_entry.entry_id}_entrance_visitors_today"
    registry = er.async_get(hass)
    await wait_for(hass, lambda: registry.async_get_entity_id("sensor", DOMAIN, visitors))
    await wait_for(hass, lambda: value(hass, store_entry, "entrance_visitors_today") == "40")
    ours = {
        e.unique_id.removeprefix(f"{store_entry.entry_id}_entrance_")
        for e in er.async_entries_for_config_entry(er.async_get(hass), store_entry.entry_id)
    }
    persona_keys = {
        k
        for k in ours
        if "persona" in k or "staff" in k or k.endswith(("units_today", "groups_today"))
    }
    assert persona_keys == set()
