"""Binary sensors: node connectivity, whether each zone has someone in it, over capacity, low
stock per shelf and product."""

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
from .models import NodeInfo, Product, Shelf, Stock, Zone

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


class LowStock(StorefrontNodeEntity, BinarySensorEntity):
    """On while the node reports a shelf (or one of its products) low or empty; the node's
    hysteresis decides, so a hand reaching in never flips it."""

    _attr_device_class = BinarySensorDeviceClass.PROBLEM

    def __init__(
        self, hub: StoreHub, node_id: str, shelf: Shelf, product: Product | None = None
    ) -> None:
        product_id = None if product is None else product.id
        super().__init__(hub, node_id, identifiers.shelf_key(shelf.id, "low", product_id))
        self.shelf_id, self.product_id = shelf.id, product_id
        self._attr_translation_key = "shelf_low" if product is None else "product_low"
        self._attr_translation_placeholders = {"shelf": shelf.name}
        if product is not None:
            self._attr_translation_placeholders["product"] = product.name

    @property
    def _stock(self) -> Stock | None:
        counts = self.node.counts
        shelf = None if counts is None else counts.stock.get(self.shelf_id)
        return None if shelf is None else shelf.of(self.product_id)

    @property
    def available(self) -> bool:
        return super().available and self._stock is not None

    @property
    def is_on(self) -> bool:
        stock = self._stock
        return stock is not None and stock.low

    @property
    def extra_state_attributes(self) -> dict[str, str]:
        stock = self._stock
        return {} if stock is None else {"status": stock.status}


def _low_stock(hub: StoreHub, node_id: str, info: NodeInfo) -> list[BinarySensorEntity]:
    sensors: list[BinarySensorEntity] = []
    for shelf in info.shelves:
        sensors.append(LowStock(hub, node_id, shelf))
        sensors += [LowStock(hub, node_id, shelf, product) for product in shelf.products]
    return sensors


def node_binary_sensors(
    hub: StoreHub, node_id: str, info: NodeInfo
) -> Iterable[BinarySensorEntity]:
    return [
        Connectivity(hub, node_id),
        OverCapacity(hub, node_id),
        *(ZoneOccupied(hub, node_id, zone) for zone in info.zones),
        *_low_stock(hub, node_id, info),
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_node_entities(entry, async_add_entities, node_binary_sensors)
