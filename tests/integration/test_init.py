"""Set-up waits for MQTT and retries while it is not there."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry


async def test_setup_retries_while_mqtt_is_unavailable(
    hass: HomeAssistant, store_entry: MockConfigEntry
) -> None:
    # No MQTT broker is configured in this test: the real wait gives up, so set-up must retry.
    with patch("custom_components.storefront.mqtt.async_wait_for_mqtt_client", return_value=False):
        await hass.config_entries.async_setup(store_entry.entry_id)
    assert store_entry.state is ConfigEntryState.SETUP_RETRY
