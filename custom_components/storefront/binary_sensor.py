"""Binary sensors: node connectivity, whether each zone has someone in it, over capacity."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import identifiers
from .data import StorefrontConfigEntry
from .entity import StorefrontNodeEntity, async_setup_node_entities
from .hub import StoreHub
from .models import NodeInfo, Zone

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class Connectivity(StorefrontNodeEntity, BinarySensorEntity):
    """On while the node is connected to the broker (its Last Will turns it off)."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, hub: StoreHub, node_id: str) -> None:
        super().__init__(hub, node_id, "connectivity")

    @property
    def available(self) -> bool:
        return True  # this entity *is* the node's availability

    @property
    def is_on(self) -> bool | None:
        if self.node_id not in self.hub.nodes:
            return False
        return self.node.online  # None: unknown (an availability payload the contract refuses)


class ZoneOccupied(StorefrontNodeEntity, BinarySensorEntity):
    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY
    _attr_translation_key = "zone_occupied"

    def __init__(self, hub: StoreHub, node_id: str, zone: Zone) -> None:
        super().__init__(hub, node_id, identifiers.zone_key(zone.id, "occupied"))
        self.zone_id = zone.id
        self._attr_translation_placeholders = {"zone": zone.name}

    @property
    def available(self) -> bool:
        return super().available and self.node.counts is not None

    @property
    def is_on(self) -> bool:
        counts = self.node.counts
        return counts is not None and bool(counts.zone_people.get(self.zone_id))


class OverCapacity(StorefrontNodeEntity, BinarySensorEntity):
    """On while more people are in view than the capacity the owner set."""

    _attr_device_class = BinarySensorDeviceClass.PROBLEM
    _attr_translation_key = "over_capacity"

    def __init__(self, hub: StoreHub, node_id: str) -> None:
        super().__init__(hub, node_id, "over_capacity")

    @property
    def available(self) -> bool:
        return (
            super().available
            and self.node.counts is not None
            and self.node_id in self.hub.capacities
        )

    @property
    def is_on(self) -> bool:
        counts, capacity = self.node.counts, self.hub.capacities.get(self.node_id)
        return counts is not None and capacity is not None and counts.people > capacity


def node_binary_sensors(
    hub: StoreHub, node_id: str, info: NodeInfo
) -> Iterable[BinarySensorEntity]:
    return [
        Connectivity(hub, node_id),
        OverCapacity(hub, node_id),
        *(ZoneOccupied(hub, node_id, zone) for zone in info.zones),
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_node_entities(entry, async_add_entities, node_binary_sensors)
