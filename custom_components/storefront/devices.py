"""The store's devices in the device registry: the store's hub device, and one device per camera
node linked to it (`via_device_id`), kept in step with the node's description.

Entities only name their device (`device_info`); what a device is (name, model, versions) is
written here once, when the hub starts and whenever a node describes itself.
"""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from . import identifiers
from .models import NodeInfo

MANUFACTURER: Final = "Storefront"


@callback
def async_register_store(hass: HomeAssistant, entry_id: str, store_name: str) -> str:
    """Create or update the store's hub device; returns its device id."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry_id,
        identifiers={identifiers.store_device(entry_id)},
        name=store_name,
        manufacturer=MANUFACTURER,
        model="Store hub",
    )
    return device.id


@callback
def async_register_node(
    hass: HomeAssistant, entry_id: str, node_id: str, info: NodeInfo, store_device_id: str
) -> None:
    """Create or update a node's device from its description, linked to the store's device."""
    registry = dr.async_get(hass)
    device = registry.async_get_or_create(
        config_entry_id=entry_id,
        identifiers={identifiers.node_device(entry_id, node_id)},
        name=info.name,
        manufacturer=MANUFACTURER,
        model=info.model,
        sw_version=info.sw_version,
        hw_version=info.hw_version,
    )
    if device.via_device_id != store_device_id:
        registry.async_update_device(device.id, via_device_id=store_device_id)


def store_device_info(entry_id: str) -> DeviceInfo:
    """What a store entity names as its device (registered by the hub)."""
    return DeviceInfo(identifiers={identifiers.store_device(entry_id)})


def node_device_info(entry_id: str, node_id: str) -> DeviceInfo:
    """What a node's entity names as its device (registered by the hub)."""
    return DeviceInfo(identifiers={identifiers.node_device(entry_id, node_id)})


@callback
def async_register_display(
    hass: HomeAssistant, entry_id: str, node_id: str, display_id: str, name: str
) -> None:
    """Create or update a display's device, linked to its node's device."""
    registry = dr.async_get(hass)
    wanted = identifiers.node_device(entry_id, node_id)
    entries = dr.async_entries_for_config_entry(registry, entry_id)
    node = next((d for d in entries if wanted in d.identifiers), None)
    device = registry.async_get_or_create(
        config_entry_id=entry_id,
        identifiers={identifiers.display_device(entry_id, node_id, display_id)},
        name=name,
        manufacturer=MANUFACTURER,
        model="Display",
    )
    if node is not None and device.via_device_id != node.id:
        registry.async_update_device(device.id, via_device_id=node.id)
