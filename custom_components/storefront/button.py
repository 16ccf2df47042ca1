"""A button per node that asks it for a fresh anonymised snapshot."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import StorefrontConfigEntry
from .const import DOMAIN
from .coordinator import StoreHub
from .entity import NodeWatcher, StorefrontNodeEntity, node_device_id
from .services import async_send_command

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class RequestSnapshot(StorefrontNodeEntity, ButtonEntity):
    _attr_translation_key = "request_snapshot"
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, hub: StoreHub, node_id: str) -> None:
        super().__init__(hub, node_id, "request_snapshot")

    async def async_press(self) -> None:
        device = dr.async_get(self.hass).async_get_device(
            {(DOMAIN, node_device_id(self.hub.entry_id, self.node_id))}
        )
        assert device is not None  # the button belongs to this very device
        await async_send_command(self.hass, device.id, "snapshot")


def node_buttons(hub: StoreHub, node_id: str) -> list[Entity]:
    features = (hub.nodes[node_id].description or {}).get("features", {})
    return [RequestSnapshot(hub, node_id)] if features.get("snapshot", True) else []


async def async_setup_entry(
    hass: HomeAssistant, entry: StorefrontConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    hub = entry.runtime_data
    watcher = NodeWatcher(hub, lambda node_id: node_buttons(hub, node_id), async_add_entities)
    watcher.check()
    entry.async_on_unload(hub.async_add_listener(watcher.check))
