"""The latest anonymised snapshot of each node (every person pixelated by the node itself)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .data import StorefrontConfigEntry
from .entity import StorefrontNodeEntity, async_setup_node_entities
from .hub import StoreHub
from .models import NodeInfo

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class Snapshot(StorefrontNodeEntity, ImageEntity):
    _attr_translation_key = "snapshot"
    _attr_content_type = "image/jpeg"

    def __init__(self, hass: HomeAssistant, hub: StoreHub, node_id: str) -> None:
        StorefrontNodeEntity.__init__(self, hub, node_id, "snapshot")
        ImageEntity.__init__(self, hass)

    @callback
    def _handle_hub_update(self) -> None:
        snapshot = self.node.snapshot
        if snapshot is not None:
            updated = dt_util.utc_from_timestamp(snapshot.ts)
            if updated != self._attr_image_last_updated:
                self._attr_image_last_updated = updated
        self.async_write_ha_state()

    @property
    def image_last_updated(self) -> datetime | None:
        return self._attr_image_last_updated

    @property
    def entity_picture(self) -> str | None:
        # No picture link before the first snapshot: the app shows the entity's icon instead
        # of a broken image (the hub asks a newly seen node for one).
        return super().entity_picture if self.node.snapshot is not None else None

    async def async_image(self) -> bytes | None:
        return self.node.snapshot_jpeg


def node_images(hub: StoreHub, node_id: str, info: NodeInfo) -> Iterable[ImageEntity]:
    return [Snapshot(hub.hass, hub, node_id)] if info.snapshots else []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_node_entities(entry, async_add_entities, node_images)
