"""The capacity the owner allows per node: starts from the node's configured capacity, can be
changed in the app, and is kept across restarts."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.number import NumberEntity, NumberMode, RestoreNumber
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import StorefrontConfigEntry
from .entity import StorefrontNodeEntity, async_setup_node_entities
from .hub import StoreHub
from .models import NodeInfo

DEFAULT_CAPACITY = 20

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class Capacity(StorefrontNodeEntity, RestoreNumber):
    _attr_translation_key = "capacity"
    _attr_entity_category = EntityCategory.CONFIG
    _attr_native_min_value = 1
    _attr_native_max_value = 1000
    _attr_native_step = 1
    _attr_mode = NumberMode.BOX
    _attr_native_unit_of_measurement = "people"

    def __init__(self, hub: StoreHub, node_id: str, info: NodeInfo) -> None:
        super().__init__(hub, node_id, "capacity")
        self._attr_native_value = float(info.capacity or DEFAULT_CAPACITY)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_number_data()
        if last is not None and last.native_value is not None:
            self._attr_native_value = last.native_value
        self.hub.async_set_capacity(self.node_id, int(self._attr_native_value or DEFAULT_CAPACITY))

    @property
    def available(self) -> bool:
        return True  # the owner may set it while the node is offline

    async def async_set_native_value(self, value: float) -> None:
        self._attr_native_value = value
        self.hub.async_set_capacity(self.node_id, int(value))


def node_numbers(hub: StoreHub, node_id: str, info: NodeInfo) -> Iterable[NumberEntity]:
    return [Capacity(hub, node_id, info)]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_node_entities(entry, async_add_entities, node_numbers)
