"""Buttons: one per node that asks it for a fresh anonymised snapshot, one per shelf that tells
the node the shelf is full now (after restocking)."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import identifiers
from .data import StorefrontConfigEntry
from .entity import StorefrontNodeEntity, async_setup_node_entities
from .hub import StoreHub
from .models import NodeInfo, Shelf

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class RequestSnapshot(StorefrontNodeEntity, ButtonEntity):
    _attr_translation_key = "request_snapshot"
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, hub: StoreHub, node_id: str) -> None:
        super().__init__(hub, node_id, "request_snapshot")

    async def async_press(self) -> None:
        await self.hub.async_send_command(self.node_id, "snapshot")


class RecalibrateShelf(StorefrontNodeEntity, ButtonEntity):
    """At its next quiet look the node takes the shelf as it is as full (level 100 %)."""

    _attr_translation_key = "recalibrate_shelf"
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, hub: StoreHub, node_id: str, shelf: Shelf) -> None:
        super().__init__(hub, node_id, identifiers.shelf_key(shelf.id, "recalibrate"))
        self.shelf_id = shelf.id
        self._attr_translation_placeholders = {"shelf": shelf.name}

    async def async_press(self) -> None:
        await self.hub.async_send_command(
            self.node_id, "recalibrate_shelf", args={"shelf": self.shelf_id}
        )


def node_buttons(hub: StoreHub, node_id: str, info: NodeInfo) -> Iterable[ButtonEntity]:
    buttons: list[ButtonEntity] = [RequestSnapshot(hub, node_id)] if info.snapshots else []
    return buttons + [RecalibrateShelf(hub, node_id, shelf) for shelf in info.shelves]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_node_entities(entry, async_add_entities, node_buttons)
