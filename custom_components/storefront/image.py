"""The latest anonymised snapshot of each node (every person pixelated by the node itself)."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import dt as dt_util

from . import StorefrontConfigEntry
from .coordinator import StoreHub
from .entity import NodeWatcher, StorefrontNodeEntity

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class Snapshot(StorefrontNodeEntity, ImageEntity):
    _attr_translation_key = "snapshot"
    _attr_content_type = "image/jpeg"

    def __init__(self, hass: HomeAssistant, hub: StoreHub, node_id: str) -> None:
        StorefrontNodeEntity.__init__(self, hub, node_id, "snapshot")
        ImageEntity.__init__(self, hass)

    def _handle_hub_update(self) -> None:
        if self.hub.changed_node not in (None, self.node_id):
            return
        snapshot = self.node.snapshot
        if snapshot is not None:
            updated = dt_util.utc_from_timestamp(snapshot["ts"])
            if updated != self._attr_image_last_updated:
                self._attr_image_last_updated = updated
        self.async_write_ha_state()

    @property
    def image_last_updated(self) -> datetime | None:
        return self._attr_image_last_updated

    async def async_image(self) -> bytes | None:
        return self.node.snapshot_jpeg


def node_images(hass: HomeAssistant, hub: StoreHub, node_id: str) -> list[Entity]:
    features = (hub.nodes[node_id].description or {}).get("features", {})
    return [Snapshot(hass, hub, node_id)] if features.get("snapshot", True) else []


async def async_setup_entry(
    hass: HomeAssistant, entry: StorefrontConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    hub = entry.runtime_data
    watcher = NodeWatcher(hub, lambda node_id: node_images(hass, hub, node_id), async_add_entities)
    watcher.check()
    entry.async_on_unload(hub.async_add_listener(watcher.check))
