"""Binary sensors: node connectivity, and whether each zone has someone in it."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import StorefrontConfigEntry
from .coordinator import StoreHub
from .entity import NodeWatcher, StorefrontNodeEntity, dig

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
    def is_on(self) -> bool:
        return self.node_id in self.hub.nodes and self.node.online


class ZoneOccupied(StorefrontNodeEntity, BinarySensorEntity):
    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY
    _attr_translation_key = "zone_occupied"

    def __init__(self, hub: StoreHub, node_id: str, zone_id: str, zone_name: str) -> None:
        super().__init__(hub, node_id, f"zone_{zone_id}_occupied")
        self.zone_id = zone_id
        self._attr_translation_placeholders = {"zone": zone_name}

    @property
    def available(self) -> bool:
        return super().available and self.node.state is not None

    @property
    def is_on(self) -> bool:
        return bool(dig(self.node.state, "occupancy", "zones", self.zone_id))


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
            and self.node.state is not None
            and self.node_id in self.hub.capacities
        )

    @property
    def is_on(self) -> bool:
        people = dig(self.node.state, "occupancy", "total") or 0
        return bool(people > self.hub.capacities.get(self.node_id, people))


def node_binary_sensors(hub: StoreHub, node_id: str) -> list[Entity]:
    description = hub.nodes[node_id].description or {}
    entities: list[Entity] = [Connectivity(hub, node_id), OverCapacity(hub, node_id)]
    entities += [
        ZoneOccupied(hub, node_id, z["id"], z["name"]) for z in description.get("zones", [])
    ]
    return entities


async def async_setup_entry(
    hass: HomeAssistant, entry: StorefrontConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    hub = entry.runtime_data
    watcher = NodeWatcher(
        hub, lambda node_id: node_binary_sensors(hub, node_id), async_add_entities
    )
    watcher.check()
    entry.async_on_unload(hub.async_add_listener(watcher.check))
