"""The Storefront integration: privacy-preserving shop analytics from camera nodes over MQTT."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_EXPORT,
    CONF_OFFLINE_MINUTES,
    CONF_STORE_NAME,
    CONF_TOPIC_ROOT,
    DEFAULT_OFFLINE_MINUTES,
    DOMAIN,
)
from .coordinator import StoreHub
from .export import StoreExport
from .influx import InfluxTarget
from .services import async_register_services

type StorefrontConfigEntry = ConfigEntry[StoreHub]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.NUMBER,
    Platform.SENSOR,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever stores are added later."""
    async_register_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: StorefrontConfigEntry) -> bool:
    """Set up one store: wait for MQTT, then subscribe the store hub to its topic root."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
    hub = StoreHub(
        hass,
        entry.data[CONF_TOPIC_ROOT],
        entry.entry_id,
        int(entry.options.get(CONF_OFFLINE_MINUTES, DEFAULT_OFFLINE_MINUTES)),
    )
    if export_options := entry.options.get(CONF_EXPORT):
        hub.export = StoreExport(
            hass, hub, entry.data[CONF_STORE_NAME], InfluxTarget.from_options(export_options)
        )
        await hub.export.async_start()  # before the hub subscribes: retained data is exported
    try:
        await hub.async_start()
    except Exception:
        if hub.export is not None:
            await hub.export.async_stop()
        raise
    entry.runtime_data = hub
    entry.async_on_unload(hub.async_stop)
    entry.async_on_unload(entry.add_update_listener(_options_changed))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: StorefrontConfigEntry) -> bool:
    """Unload a store; the hub's subscriptions end through async_on_unload."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    hub = entry.runtime_data
    await hub.sequences.async_flush()
    if hub.export is not None:
        await hub.export.async_stop()  # writes what it can, keeps the rest on disk
    return unloaded


async def _options_changed(hass: HomeAssistant, entry: StorefrontConfigEntry) -> None:
    """Reload when the owner changed an option (other entry updates need no reload)."""
    hub = entry.runtime_data
    minutes = int(entry.options.get(CONF_OFFLINE_MINUTES, DEFAULT_OFFLINE_MINUTES))
    export = entry.options.get(CONF_EXPORT)
    running = hub.export.target if hub.export is not None else None
    wanted = InfluxTarget.from_options(export) if export else None
    if minutes != hub.offline.minutes or running != wanted:
        await hass.config_entries.async_reload(entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: StorefrontConfigEntry, device: dr.DeviceEntry
) -> bool:
    """The owner deletes a node's device: allowed only while the node is offline or gone.

    Its retained topics are cleared on the broker, so a decommissioned node does not come back
    at the next restart."""
    hub = entry.runtime_data
    for domain, identifier in device.identifiers:
        if domain != DOMAIN or not identifier.startswith(f"{entry.entry_id}_"):
            continue
        node_id = identifier.removeprefix(f"{entry.entry_id}_")
        node = hub.nodes.get(node_id)
        if node is not None and node.online:
            return False
        await hub.async_forget_node(node_id)
        return True
    return False  # the store's own hub device stays
