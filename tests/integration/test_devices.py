"""Devices and updates per node, through the real broker: a node's device follows its
description, a node's message rewrites only that node's entities, and the offline repair issue
names the node whichever of its messages came first."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.storefront.const import CONF_OFFLINE_MINUTES, DOMAIN
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import NodePublisher, device_of, wait_for
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]
STATE = EXAMPLES["state"]


def _people(state_total: int) -> dict[str, object]:
    return {**STATE, "occupancy": {**STATE["occupancy"], "total": state_total}}


async def test_a_node_device_follows_its_description(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.publish("availability", "online", retain=True)
    node.publish("description", DESCRIPTION, retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    await wait_for(hass, lambda: device_of(hass, store_entry, "entrance") is not None)
    device, store = device_of(hass, store_entry, "entrance"), device_of(hass, store_entry)
    assert device is not None
    assert store is not None
    assert (device.name, device.sw_version, device.via_device_id) == (
        "Entrance camera",
        "0.1.0",
        store.id,
    )
    assert (store.name, store.model) == ("Main Street", "Store hub")

    node.publish("description", {**DESCRIPTION, "sw_version": "0.2.0"}, retain=True)
    await wait_for(
        hass, lambda: getattr(device_of(hass, store_entry, "entrance"), "sw_version", "") == "0.2.0"
    )


async def test_a_message_of_one_node_rewrites_only_that_nodes_entities(
    hass: HomeAssistant, store_entry: MockConfigEntry, mqtt_broker: Mosquitto
) -> None:
    entrance, back = (NodePublisher(mqtt_broker.port, n) for n in ("entrance", "back"))
    try:
        for publisher in (entrance, back):
            described = {**DESCRIPTION, "node_id": publisher.node_id}
            publisher.publish("availability", "online", retain=True)
            publisher.publish("description", described, retain=True)
            publisher.publish("state", STATE, retain=True)
        assert await hass.config_entries.async_setup(store_entry.entry_id)
        registry = er.async_get(hass)

        def people(node_id: str) -> str | None:
            unique_id = f"{store_entry.entry_id}_{node_id}_people"
            return registry.async_get_entity_id("sensor", DOMAIN, unique_id)

        await wait_for(hass, lambda: bool(people("entrance") and people("back")))
        back_people, entrance_people = people("back"), people("entrance")
        assert back_people is not None
        assert entrance_people is not None
        await wait_for(hass, lambda: hass.states.get(back_people).state == "3")  # type: ignore[union-attr]
        before = hass.states.get(back_people)
        assert before is not None
        reported = before.last_reported  # Home Assistant updates the State object in place

        entrance.publish("state", _people(5), retain=True)
        await wait_for(hass, lambda: hass.states.get(entrance_people).state == "5")  # type: ignore[union-attr]
        after = hass.states.get(back_people)
        assert after is not None
        assert after.last_reported == reported  # not written again
        store_people = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{store_entry.entry_id}_store_people"
        )
        assert hass.states.get(store_people).state == "8"  # type: ignore[arg-type, union-attr]
    finally:
        for publisher in (entrance, back):
            publisher.clear_retained("availability", "description", "state")
            publisher.close()


async def test_offline_issue_names_a_node_that_described_itself_late(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    hass.config_entries.async_update_entry(store_entry, options={CONF_OFFLINE_MINUTES: 5})
    node.publish("availability", "offline", retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: "entrance" in hub.nodes)
    assert hub.nodes["entrance"].info is None
    node.publish("description", DESCRIPTION, retain=True)
    await wait_for(hass, lambda: hub.nodes["entrance"].info is not None)

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=6))
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"node_offline_{store_entry.entry_id}_entrance"
    )
    assert issue is not None
    assert issue.translation_placeholders == {"node": "Entrance camera", "minutes": "5"}
