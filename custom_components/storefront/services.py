"""Actions the owner can run on a node: reset its counters, ask it for a snapshot, make it
re-read its configuration file (and say why, when the node refuses the new one). Each finds
the node's store and hands the command to that store's hub."""

from __future__ import annotations

from typing import Final

import probatio
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from . import identifiers
from .const import DOMAIN
from .data import StorefrontConfigEntry
from .hub import StoreHub

SERVICE_RESET_COUNTERS: Final = "reset_counters"
SERVICE_REQUEST_SNAPSHOT: Final = "request_snapshot"
SERVICE_RELOAD_CONFIG: Final = "reload_config"
ATTR_DEVICE_ID: Final = "device_id"

SCHEMA = probatio.Schema({probatio.Required(ATTR_DEVICE_ID): cv.string})


def _node_of(hass: HomeAssistant, device_id: str) -> tuple[StoreHub, str]:
    """(the store's hub, node id) of the Storefront node behind a device."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_device",
            translation_placeholders={"device_id": device_id},
        )
    found = identifiers.node_of_device(device.identifiers)
    if found is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_node",
            translation_placeholders={"device": device.name or device_id},
        )
    entry: StorefrontConfigEntry | None = hass.config_entries.async_get_entry(found[0])
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="store_not_loaded",
            translation_placeholders={"device": device.name or device_id},
        )
    return entry.runtime_data.hub, found[1]


def async_register_services(hass: HomeAssistant) -> None:
    async def reset_counters(call: ServiceCall) -> None:
        hub, node_id = _node_of(hass, call.data[ATTR_DEVICE_ID])
        await hub.async_send_command(node_id, "reset_counters")

    async def request_snapshot(call: ServiceCall) -> None:
        hub, node_id = _node_of(hass, call.data[ATTR_DEVICE_ID])
        await hub.async_send_command(node_id, "snapshot")

    async def reload_config(call: ServiceCall) -> None:
        hub, node_id = _node_of(hass, call.data[ATTR_DEVICE_ID])
        await hub.async_send_command(node_id, "reload_config", wait=True)

    hass.services.async_register(DOMAIN, SERVICE_RESET_COUNTERS, reset_counters, SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_RELOAD_CONFIG, reload_config, SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REQUEST_SNAPSHOT, request_snapshot, SCHEMA)
