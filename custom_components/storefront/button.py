"""A button per node that asks it for a fresh anonymised snapshot."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import StorefrontConfigEntry
from .entity import StorefrontNodeEntity, async_setup_node_entities
from .hub import StoreHub
from .models import NodeInfo

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class RequestSnapshot(StorefrontNodeEntity, ButtonEntity):
    _attr_translation_key = "request_snapshot"
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, hub: StoreHub, node_id: str) -> None:
        super().__init__(hub, node_id, "request_snapshot")

    async def async_press(self) -> None:
        await self.hub.async_send_command(self.node_id, "snapshot")


def node_buttons(hub: StoreHub, node_id: str, info: NodeInfo) -> Iterable[ButtonEntity]:
    return [RequestSnapshot(hub, node_id)] if info.snapshots else []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_node_entities(entry, async_add_entities, node_buttons)
