"""Adding a store by hand and from a node's MQTT announcement."""

from __future__ import annotations

import json
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.const import (
    CONF_OFFLINE_MINUTES,
    CONF_STORE_NAME,
    CONF_TOPIC_ROOT,
    DOMAIN,
)
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]


def _discovery(payload: bytes) -> MqttServiceInfo:
    return MqttServiceInfo(
        topic="storefront/entrance/description",
        payload=payload,
        qos=1,
        retain=True,
        subscribed_topic="storefront/+/description",
        timestamp=0,
    )


async def _announce(hass: HomeAssistant, payload: bytes) -> ConfigFlowResult:
    """The flow MQTT discovery starts when a node announces itself with `payload`."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_MQTT}, data=_discovery(payload)
    )


async def test_user_step_creates_store(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STORE_NAME: " Main Street ", CONF_TOPIC_ROOT: "shops/main/"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Main Street"
    assert result["data"] == {CONF_STORE_NAME: "Main Street", CONF_TOPIC_ROOT: "shops/main"}
    assert result["result"].unique_id == "shops/main"


async def test_user_step_explains_bad_input(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STORE_NAME: "  ", CONF_TOPIC_ROOT: "storefront"}
    )
    assert result["errors"] == {CONF_STORE_NAME: "store_name_empty"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STORE_NAME: "Shop", CONF_TOPIC_ROOT: "Store Front/#"}
    )
    assert result["errors"] == {CONF_TOPIC_ROOT: "invalid_topic_root"}


async def test_same_topic_root_twice_is_refused(hass: HomeAssistant) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id="storefront", data={}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STORE_NAME: "Again", CONF_TOPIC_ROOT: "storefront"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_announced_node_is_confirmed_by_the_owner(hass: HomeAssistant) -> None:
    result = await _announce(hass, json.dumps(DESCRIPTION).encode())
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_confirm"
    assert result["description_placeholders"] == {"node": "Entrance camera"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STORE_NAME: "Corner Shop"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_STORE_NAME: "Corner Shop", CONF_TOPIC_ROOT: "storefront"}


async def test_announcement_breaking_the_contract_is_ignored(hass: HomeAssistant) -> None:
    result = await _announce(hass, b'{"schema": 1}')
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_announcement_for_configured_store_aborts(hass: HomeAssistant) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id="storefront", data={}).add_to_hass(hass)
    result = await _announce(hass, json.dumps(DESCRIPTION).encode())
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_renames_and_moves_the_store(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Old",
        unique_id="storefront",
        data={CONF_STORE_NAME: "Old", CONF_TOPIC_ROOT: "storefront"},
    )
    entry.add_to_hass(hass)
    MockConfigEntry(domain=DOMAIN, unique_id="taken", data={}).add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STORE_NAME: "New", CONF_TOPIC_ROOT: "Bad Root"}
    )
    assert result["errors"] == {CONF_TOPIC_ROOT: "invalid_topic_root"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STORE_NAME: "New", CONF_TOPIC_ROOT: "taken"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await entry.start_reconfigure_flow(hass)
    with patch("custom_components.storefront.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_STORE_NAME: "New", CONF_TOPIC_ROOT: "shops/new"}
        )
        await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "New"
    assert entry.unique_id == "shops/new"
    assert entry.data == {CONF_STORE_NAME: "New", CONF_TOPIC_ROOT: "shops/new"}


async def test_options_set_the_offline_alert_delay(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id="storefront", data={})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "store"}
    )
    assert result["step_id"] == "store"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_OFFLINE_MINUTES: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_OFFLINE_MINUTES: 30}
