"""The Storefront integration: privacy-preserving shop analytics from camera nodes over MQTT."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from . import identifiers
from .const import DOMAIN
from .data import StorefrontConfigEntry, StorefrontData
from .display_offers import DisplayOffers
from .hub import StoreHub, StoreOptions
from .panel import async_register_panel
from .screen import ScreenView
from .services import async_register_services
from .websocket import async_register_websocket_commands

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, the screen page, the panel and its commands once, whatever stores
    come later."""
    async_register_services(hass)
    hass.http.register_view(ScreenView(hass))
    async_register_websocket_commands(hass)
    if "frontend" in hass.config.components:  # set up first when present (after_dependencies)
        await async_register_panel(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: StorefrontConfigEntry) -> bool:
    """Set up one store: wait for MQTT, start its hub, then its entities."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
    hub = StoreHub.from_entry(hass, entry)
    await hub.async_start()
    offers = DisplayOffers(hass, entry, hub)
    await offers.async_start()
    entry.runtime_data = StorefrontData(hub, offers)
    entry.async_on_unload(hub.async_shutdown)  # after the platforms are unloaded
    entry.async_on_unload(offers.async_stop)
    entry.async_on_unload(entry.add_update_listener(_options_changed))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: StorefrontConfigEntry) -> bool:
    """Unload a store; its hub shuts down through async_on_unload."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def _options_changed(hass: HomeAssistant, entry: StorefrontConfigEntry) -> None:
    """Reload when the owner changed an option (other entry updates need no reload); an
    offer added, edited or removed is taken into the displays' choices at once."""
    entry.runtime_data.offers.refresh()
    if StoreOptions.from_entry(entry) != entry.runtime_data.hub.options:
        await hass.config_entries.async_reload(entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: StorefrontConfigEntry, device: dr.DeviceEntry
) -> bool:
    """The owner deletes a node's device: allowed only while the node is offline or gone.

    Its retained topics are cleared on the broker, so a decommissioned node does not come back
    at the next restart. The store's own hub device stays."""
    hub = entry.runtime_data.hub
    found = identifiers.node_of_device(device.identifiers)
    if found is None or found[0] != entry.entry_id:
        return False
    node = hub.nodes.get(found[1])
    if node is not None and node.online:
        return False
    await hub.async_forget_node(found[1])
    return True
