"""Actions publish contract commands to the node over the real broker; mistakes are explained."""

from __future__ import annotations

import json

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront import contract
from custom_components.storefront import hub as hub_module
from custom_components.storefront.const import DOMAIN
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import NodePublisher, wait_for


def _node_device(hass: HomeAssistant, entry: MockConfigEntry, node_id: str) -> str:
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{entry.entry_id}_{node_id}")},
        name=f"Node {node_id}",
    )
    return device.id


@pytest.mark.parametrize(
    ("service", "command"), [("reset_counters", "reset_counters"), ("request_snapshot", "snapshot")]
)
async def test_action_publishes_the_command(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    mqtt_broker: Mosquitto,
    service: str,
    command: str,
) -> None:
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    device_id = _node_device(hass, store_entry, "entrance")
    probe = Probe(mqtt_broker.port, topic="storefront/entrance/command", client_id="svc-probe")
    try:
        assert await hass.async_add_executor_job(probe.subscribed.wait, 10)
        await hass.services.async_call(DOMAIN, service, {"device_id": device_id}, blocking=True)
        await hass.async_add_executor_job(probe.wait, lambda: len(probe.messages) == 1)
    finally:
        probe.close()
    body = contract.parse("command", probe.messages[0][1])
    assert body["command"] == command
    assert json.loads(probe.messages[0][1])["schema"] == 1


async def test_action_on_a_device_that_is_not_a_node(
    hass: HomeAssistant, store_entry: MockConfigEntry, mqtt_broker: Mosquitto
) -> None:
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    other = dr.async_get(hass).async_get_or_create(
        config_entry_id=store_entry.entry_id, identifiers={("other", "lamp")}, name="Lamp"
    )
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "reset_counters", {"device_id": other.id}, blocking=True
        )
    assert caught.value.translation_key == "not_a_node"
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "reset_counters", {"device_id": "nope"}, blocking=True
        )
    assert caught.value.translation_key == "unknown_device"


async def test_action_when_the_store_is_not_loaded(
    hass: HomeAssistant, store_entry: MockConfigEntry, mqtt_broker: Mosquitto
) -> None:
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    device_id = _node_device(hass, store_entry, "entrance")
    assert await hass.config_entries.async_unload(store_entry.entry_id)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "request_snapshot", {"device_id": device_id}, blocking=True
        )
    assert caught.value.translation_key == "store_not_loaded"


async def test_reload_config_without_an_answer_says_so(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    mqtt_broker: Mosquitto,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No node listens on the real broker: the action fails naming the node, it does not hang."""
    monkeypatch.setattr(hub_module, "REPLY_TIMEOUT_S", 0.5)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    device_id = _node_device(hass, store_entry, "entrance")
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN, "reload_config", {"device_id": device_id}, blocking=True
        )
    assert caught.value.translation_key == "no_reply"
    assert caught.value.translation_placeholders["node"] == "entrance"
    assert not store_entry.runtime_data.hub._replies  # the request is forgotten


async def test_a_malformed_reply_is_rejected_and_counted(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.publish("availability", "online", retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: "entrance" in hub.nodes)  # subscribed
    before = hub.rejects.total
    node.publish("reply", {"schema": 1, "id": "x", "ok": "yes"})
    await wait_for(hass, lambda: hub.rejects.total == before + 1)
    assert "reply" in (hub.rejects.last_error or "")
