"""Sensors: people in view, footfall and visitors today, dwell, node health, store totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import StorefrontConfigEntry
from .const import CONF_STORE_NAME
from .coordinator import NodeData, StoreHub
from .entity import NodeWatcher, StorefrontNodeEntity, StorefrontStoreEntity, dig

PEOPLE = "people"

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class NodeSensorDescription(SensorEntityDescription):
    value_fn: Callable[[NodeData], Any]
    source: str = "state"  # which retained message the value comes from
    restore: bool = False  # show the last value across restarts until the node's state arrives


NODE_SENSORS: tuple[NodeSensorDescription, ...] = (
    NodeSensorDescription(
        key="people",
        translation_key="people",
        native_unit_of_measurement=PEOPLE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda n: dig(n.state, "occupancy", "total"),
    ),
    NodeSensorDescription(
        key="visitors_today",
        translation_key="visitors_today",
        native_unit_of_measurement=PEOPLE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda n: dig(n.state, "counters", "visits"),
        restore=True,
    ),
    NodeSensorDescription(
        key="fps",
        translation_key="fps",
        native_unit_of_measurement="fps",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        source="health",
        value_fn=lambda n: dig(n.health, "fps"),
    ),
    NodeSensorDescription(
        key="inference_time",
        translation_key="inference_time",
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        suggested_display_precision=1,
        source="health",
        value_fn=lambda n: dig(n.health, "inference_ms"),
    ),
    NodeSensorDescription(
        key="queue_depth",
        translation_key="queue_depth",
        native_unit_of_measurement="events",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        source="health",
        value_fn=lambda n: dig(n.health, "queue", "depth"),
    ),
    NodeSensorDescription(
        key="dropped_events",
        translation_key="dropped_events",
        native_unit_of_measurement="events",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        source="health",
        value_fn=lambda n: dig(n.health, "queue", "dropped"),
    ),
    NodeSensorDescription(
        key="camera",
        translation_key="camera",
        device_class=SensorDeviceClass.ENUM,
        options=["ok", "reconnecting", "lost", "ended"],
        entity_category=EntityCategory.DIAGNOSTIC,
        source="health",
        value_fn=lambda n: dig(n.health, "camera"),
    ),
)


def _state_at(*path: str) -> Callable[[NodeData], Any]:
    """A value_fn reading one place in the node's retained state."""

    def value(node: NodeData) -> Any:
        return dig(node.state, *path)

    return value


def _zone_sensors(zone: dict[str, Any]) -> list[NodeSensorDescription]:
    zone_id = zone["id"]
    return [
        NodeSensorDescription(
            key=f"zone_{zone_id}_people",
            translation_key="zone_people",
            translation_placeholders={"zone": zone["name"]},
            native_unit_of_measurement=PEOPLE,
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=_state_at("occupancy", "zones", zone_id),
        ),
        NodeSensorDescription(
            key=f"zone_{zone_id}_dwell",
            translation_key="zone_dwell",
            translation_placeholders={"zone": zone["name"]},
            native_unit_of_measurement=UnitOfTime.SECONDS,
            device_class=SensorDeviceClass.DURATION,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=0,
            value_fn=_state_at("counters", "dwell", zone_id, "mean_s"),
        ),
    ]


def _line_sensors(line: dict[str, Any]) -> list[NodeSensorDescription]:
    return [
        NodeSensorDescription(
            key=f"line_{line['id']}_{direction}",
            translation_key=f"footfall_{direction}",
            translation_placeholders={"line": line["name"]},
            native_unit_of_measurement=PEOPLE,
            state_class=SensorStateClass.TOTAL_INCREASING,
            restore=True,
            value_fn=_state_at("counters", "lines", line["id"], direction),
        )
        for direction in ("in", "out")
    ]


class NodeSensor(StorefrontNodeEntity, RestoreSensor):
    entity_description: NodeSensorDescription

    def __init__(self, hub: StoreHub, node_id: str, description: NodeSensorDescription) -> None:
        super().__init__(hub, node_id, description.key)
        self.entity_description = description
        self._restored: Any = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self.entity_description.restore and (last := await self.async_get_last_sensor_data()):
            self._restored = last.native_value

    @property
    def available(self) -> bool:
        source = getattr(self.node, self.entity_description.source, None)
        return super().available and (source is not None or self._restored is not None)

    @property
    def native_value(self) -> Any:
        value = self.entity_description.value_fn(self.node)
        if value is None and self.node.state is None:
            return self._restored  # the node's retained state has not arrived yet
        return value


@dataclass(frozen=True, kw_only=True)
class StoreSensorDescription(SensorEntityDescription):
    value_fn: Callable[[StoreHub], Any]


def _store_people(hub: StoreHub) -> int:
    return sum(dig(n.state, "occupancy", "total") or 0 for n in hub.nodes.values() if n.online)


def _store_footfall(hub: StoreHub) -> int:
    total = 0
    for node in hub.nodes.values():
        for line in dig(node.description, "lines") or []:
            if line.get("entrance", False):
                total += dig(node.state, "counters", "lines", line["id"], "in") or 0
    return total


STORE_SENSORS: tuple[StoreSensorDescription, ...] = (
    StoreSensorDescription(
        key="people",
        translation_key="store_people",
        native_unit_of_measurement=PEOPLE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_store_people,
    ),
    StoreSensorDescription(
        key="footfall_in",
        translation_key="store_footfall",
        native_unit_of_measurement=PEOPLE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=_store_footfall,
    ),
    StoreSensorDescription(
        key="rejected",
        translation_key="rejected_messages",
        native_unit_of_measurement="messages",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda hub: hub.rejects.total,
    ),
)


class StoreSensor(StorefrontStoreEntity, SensorEntity):
    entity_description: StoreSensorDescription

    def __init__(self, hub: StoreHub, store_name: str, description: StoreSensorDescription) -> None:
        super().__init__(hub, description.key, store_name)
        self.entity_description = description

    @property
    def native_value(self) -> Any:
        return self.entity_description.value_fn(self.hub)


def node_sensors(hub: StoreHub, node_id: str) -> list[Entity]:
    description = hub.nodes[node_id].description or {}
    descriptions = list(NODE_SENSORS)
    for zone in description.get("zones", []):
        descriptions += _zone_sensors(zone)
    for line in description.get("lines", []):
        descriptions += _line_sensors(line)
    return [NodeSensor(hub, node_id, d) for d in descriptions]


async def async_setup_entry(
    hass: HomeAssistant, entry: StorefrontConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    hub = entry.runtime_data
    store_name = entry.data.get(CONF_STORE_NAME, entry.title)
    async_add_entities([StoreSensor(hub, store_name, d) for d in STORE_SENSORS])
    watcher = NodeWatcher(hub, lambda node_id: node_sensors(hub, node_id), async_add_entities)
    watcher.check()
    entry.async_on_unload(hub.async_add_listener(watcher.check))
