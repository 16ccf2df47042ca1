"""The store hub against a real mosquitto: valid payloads land, bad ones are refused and counted."""

from __future__ import annotations

import copy
import logging

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.integration.conftest import NodePublisher, has_node, set_up, wait_for
from tests.node_contract import EXAMPLES


async def test_retained_node_data_reaches_the_hub(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.announce(EXAMPLES["description"], EXAMPLES["state"])
    hub = await set_up(hass, store_entry, has_node("entrance", "state"))
    data = hub.nodes["entrance"]
    assert data.online is True
    assert data.description is not None
    assert data.description["zones"][0]["id"] == "window"
    assert data.state is not None
    assert data.state["occupancy"]["total"] == 3

    assert await hass.config_entries.async_unload(store_entry.entry_id)
    assert store_entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"schema": 1, "ts": NaN}', "NaN"),
        (b"x" * 70000, "exceeds"),
    ],
)
async def test_bad_payload_is_refused_and_last_good_value_kept(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    caplog: pytest.LogCaptureFixture,
    payload: bytes,
    reason: str,
) -> None:
    node.publish("state", EXAMPLES["state"], retain=True)
    hub = await set_up(hass, store_entry, has_node("entrance", "state"))

    with caplog.at_level(logging.WARNING):
        node.publish("state", payload)
        await wait_for(hass, lambda: hub.rejects.total == 1)
    assert hub.nodes["entrance"].state == EXAMPLES["state"]
    assert reason in caplog.text
    assert hub.rejects.by_kind["state"] == 1


async def test_negative_count_and_unknown_version_are_refused(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.publish("health", EXAMPLES["health"], retain=True)
    hub = await set_up(hass, store_entry, has_node("entrance"))
    negative = copy.deepcopy(EXAMPLES["state"])
    negative["occupancy"]["total"] = -2
    future = copy.deepcopy(EXAMPLES["state"])
    future["schema"] = 2
    node.publish("state", negative)
    node.publish("state", future)
    await wait_for(hass, lambda: hub.rejects.total == 2)
    assert hub.nodes["entrance"].state is None
    assert hub.rejects.last_error is not None
    assert "schema" in hub.rejects.last_error


async def test_invalid_node_id_in_topic_is_refused(
    hass: HomeAssistant, store_entry: MockConfigEntry, mqtt_broker: object
) -> None:
    intruder = NodePublisher(hub_port(mqtt_broker), node_id="Bad.Node")
    try:
        intruder.publish("state", EXAMPLES["state"], retain=True)
        hub = await set_up(hass, store_entry, lambda hub: hub.rejects.total == 1)
    finally:
        intruder.clear_retained("state")
        intruder.close()
    assert hub.nodes == {}
    assert "node_id" in (hub.rejects.last_error or "")


def hub_port(broker: object) -> int:
    return int(broker.port)  # type: ignore[attr-defined]


async def test_cleared_retained_description_forgets_it(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.announce(EXAMPLES["description"])
    hub = await set_up(
        hass, store_entry, lambda hub: has_node()(hub) and hub.nodes["entrance"].online
    )
    node.clear_retained("availability", "description")  # waits on the later one
    await wait_for(hass, lambda: hub.nodes["entrance"].description is None)
    assert hub.nodes["entrance"].online is False
    assert hub.rejects.total == 0
