"""Sensors: people in view, footfall and visitors today, dwell, displays, personas, groups and
staff, shelf stock, node health, store totals.

A node's sensor is one description: which message it reads (`counts_fn` for the retained
state, `vitals_fn` for health) and how. Per-zone and per-line sensors are built from the node's
description, so they come and go with its zones and lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypedDict

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later, async_track_state_change_event
from homeassistant.helpers.typing import StateType

from . import identifiers
from .data import StorefrontConfigEntry
from .display_entity import StorefrontDisplayEntity, per_display
from .display_offers import DisplayOffers
from .entity import StorefrontNodeEntity, StorefrontStoreEntity, async_setup_node_entities
from .hub import StoreHub
from .models import (
    DIRECTIONS,
    Direction,
    Display,
    DisplayCounts,
    Line,
    Message,
    NodeCounts,
    NodeInfo,
    NodeVitals,
    PersonaCounts,
    Shelf,
    ShelfStock,
    Zone,
)
from .weight import Drop, ShelfScale, WeightFusion

PEOPLE = "people"

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class _Today(TypedDict):
    state_class: SensorStateClass
    restore: bool


class _PercentNow(TypedDict):
    native_unit_of_measurement: str
    state_class: SensorStateClass


# A count since the node's local midnight: it only rises through the day, and its last value
# shows across restarts until the node's state arrives.
TODAY: _Today = {"state_class": SensorStateClass.TOTAL_INCREASING, "restore": True}
# A share or a stock level as it is now.
PERCENT_NOW: _PercentNow = {
    "native_unit_of_measurement": PERCENTAGE,
    "state_class": SensorStateClass.MEASUREMENT,
}


@dataclass(frozen=True, kw_only=True)
class NodeSensorDescription(SensorEntityDescription):
    """A sensor of one node; set exactly one of `counts_fn` and `vitals_fn`."""

    counts_fn: Callable[[NodeCounts], StateType] | None = None  # from the retained state
    vitals_fn: Callable[[NodeVitals], StateType] | None = None  # from the health report
    restore: bool = False  # show the last value across restarts until the node's state arrives


NODE_SENSORS: tuple[NodeSensorDescription, ...] = (
    NodeSensorDescription(
        key="people",
        translation_key="people",
        native_unit_of_measurement=PEOPLE,
        state_class=SensorStateClass.MEASUREMENT,
        counts_fn=lambda counts: counts.people,
    ),
    NodeSensorDescription(
        key="visitors_today",
        translation_key="visitors_today",
        native_unit_of_measurement=PEOPLE,
        **TODAY,
        counts_fn=lambda counts: counts.visits,
    ),
    NodeSensorDescription(
        key="fps",
        translation_key="fps",
        native_unit_of_measurement="fps",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        vitals_fn=lambda vitals: vitals.fps,
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
        vitals_fn=lambda vitals: vitals.inference_ms,
    ),
    NodeSensorDescription(
        key="queue_depth",
        translation_key="queue_depth",
        native_unit_of_measurement="events",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        vitals_fn=lambda vitals: vitals.queue_depth,
    ),
    NodeSensorDescription(
        key="dropped_events",
        translation_key="dropped_events",
        native_unit_of_measurement="events",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        vitals_fn=lambda vitals: vitals.queue_dropped,
    ),
    NodeSensorDescription(
        key="camera",
        translation_key="camera",
        device_class=SensorDeviceClass.ENUM,
        options=["ok", "reconnecting", "lost", "ended"],
        entity_category=EntityCategory.DIAGNOSTIC,
        vitals_fn=lambda vitals: vitals.camera,
    ),
)


def _zone_sensors(zone: Zone) -> list[NodeSensorDescription]:
    def people(counts: NodeCounts) -> StateType:
        return counts.zone_people.get(zone.id)

    def dwell(counts: NodeCounts) -> StateType:
        return counts.dwell_mean_s.get(zone.id)

    return [
        NodeSensorDescription(
            key=identifiers.zone_key(zone.id, "people"),
            translation_key="zone_people",
            translation_placeholders={"zone": zone.name},
            native_unit_of_measurement=PEOPLE,
            state_class=SensorStateClass.MEASUREMENT,
            counts_fn=people,
        ),
        NodeSensorDescription(
            key=identifiers.zone_key(zone.id, "dwell"),
            translation_key="zone_dwell",
            translation_placeholders={"zone": zone.name},
            native_unit_of_measurement=UnitOfTime.SECONDS,
            device_class=SensorDeviceClass.DURATION,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=0,
            counts_fn=dwell,
        ),
    ]


def _figure[T](
    part: Callable[[NodeCounts], T | None], read: Callable[[T], StateType]
) -> Callable[[NodeCounts], StateType]:
    """A figure of one part of the node's counts (a line, a display, a shelf, the personas):
    None while the node reports no such part."""

    def value(counts: NodeCounts) -> StateType:
        found = part(counts)
        return None if found is None else read(found)

    return value


def _crossings(line_id: str, direction: Direction) -> Callable[[NodeCounts], StateType]:
    return _figure(lambda counts: counts.lines.get(line_id), lambda line: line.of(direction))


def _line_sensors(line: Line) -> list[NodeSensorDescription]:
    return [
        NodeSensorDescription(
            key=identifiers.line_key(line.id, direction),
            translation_key=f"footfall_{direction}",
            translation_placeholders={"line": line.name},
            native_unit_of_measurement=PEOPLE,
            **TODAY,
            counts_fn=_crossings(line.id, direction),
        )
        for direction in DIRECTIONS
    ]


def _display_sensors(display: Display, info: NodeInfo) -> list[NodeSensorDescription]:
    """Opportunities to see always; watchers, attention, attraction and conversion with the
    node's attention on; the positive mood share with its mood on."""

    def sensor(what: str, figure: Callable[[DisplayCounts], StateType], **kw: object) -> Any:
        return NodeSensorDescription(
            key=identifiers.display_key(display.id, what),
            translation_key=f"display_{what}",
            translation_placeholders={"display": display.name},
            counts_fn=_figure(lambda counts: counts.displays.get(display.id), figure),
            **kw,  # type: ignore[arg-type]
        )

    sensors = [
        sensor("passers", lambda d: d.passers, native_unit_of_measurement=PEOPLE, **TODAY),
        sensor("impressions", lambda d: d.impressions, native_unit_of_measurement=PEOPLE, **TODAY),
    ]
    if info.attention:
        sensors += [
            sensor("watchers", lambda d: d.watchers, native_unit_of_measurement=PEOPLE, **TODAY),
            sensor(
                "attention",
                lambda d: round(d.attention_s, 1),
                native_unit_of_measurement=UnitOfTime.SECONDS,
                device_class=SensorDeviceClass.DURATION,
                **TODAY,
            ),
            sensor("attraction", lambda d: d.attraction, **PERCENT_NOW),
            sensor("conversion", lambda d: d.conversion, **PERCENT_NOW),
        ]
    if info.mood:
        sensors.append(
            sensor(
                "positive",
                lambda d: None if d.positive is None else round(100 * d.positive, 1),
                **PERCENT_NOW,
            )
        )
    return sensors


# Personas, groups and staff (docs/personas.md): only on nodes that classify personas. One
# sensor per persona, not one with the mix in attributes: states get long-term statistics,
# history graphs and numeric-state triggers; attributes get none of them.


def _persona_figure(
    read: Callable[[PersonaCounts], StateType],
) -> Callable[[NodeCounts], StateType]:
    return _figure(lambda counts: counts.personas, read)


def _shelf_figure(
    shelf_id: str, read: Callable[[ShelfStock], StateType]
) -> Callable[[NodeCounts], StateType]:
    return _figure(lambda counts: counts.stock.get(shelf_id), read)


def _main_persona(zone_id: str | None) -> Callable[[NodeCounts], StateType]:
    return _figure(lambda counts: counts.live, lambda live: live.main(zone_id))


def _persona_sensors(info: NodeInfo) -> list[NodeSensorDescription]:
    personas = info.shopper_personas
    if not personas:
        return []
    descriptions = [
        NodeSensorDescription(
            key="units_today",
            translation_key="units_today",
            native_unit_of_measurement="units",
            **TODAY,
            counts_fn=_persona_figure(lambda p: p.units),
        ),
        NodeSensorDescription(
            key="groups_today",
            translation_key="groups_today",
            native_unit_of_measurement="groups",
            **TODAY,
            counts_fn=_persona_figure(lambda p: p.groups),
        ),
        NodeSensorDescription(
            key="staff_now",
            translation_key="staff_now",
            native_unit_of_measurement=PEOPLE,
            state_class=SensorStateClass.MEASUREMENT,
            counts_fn=_persona_figure(lambda p: p.staff_now),
        ),
        NodeSensorDescription(
            key="staff_visits_today",
            translation_key="staff_visits_today",
            native_unit_of_measurement="visits",
            **TODAY,
            counts_fn=_persona_figure(lambda p: p.staff_visits),
        ),
        NodeSensorDescription(
            key="persona_now",
            translation_key="persona_now",
            device_class=SensorDeviceClass.ENUM,
            options=["none", *personas],
            counts_fn=_main_persona(None),
        ),
    ]
    descriptions += [
        NodeSensorDescription(
            key=identifiers.zone_key(zone.id, "persona_now"),
            translation_key="zone_persona_now",
            translation_placeholders={"zone": zone.name},
            device_class=SensorDeviceClass.ENUM,
            options=["none", *personas],
            counts_fn=_main_persona(zone.id),
        )
        for zone in info.zones
    ]
    for persona in personas:
        descriptions += _one_persona_sensors(persona)
    return descriptions


def _one_persona_sensors(persona: str) -> list[NodeSensorDescription]:
    return [
        NodeSensorDescription(
            key=identifiers.persona_key(persona, "today"),
            translation_key=f"persona_{persona}_today",
            native_unit_of_measurement="visits",
            **TODAY,
            counts_fn=_persona_figure(lambda p: p.of(persona)),
        ),
        NodeSensorDescription(
            key=identifiers.persona_key(persona, "share"),
            translation_key=f"persona_{persona}_share",
            native_unit_of_measurement=PERCENTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=0,
            counts_fn=_persona_figure(lambda p: p.share(persona)),
        ),
    ]


def _product_level(product_id: str | None) -> Callable[[ShelfStock], StateType]:
    def level(stock: ShelfStock) -> StateType:
        found = stock.of(product_id)
        return None if found is None else found.percent

    return level


def _shelf_sensors(shelf: Shelf) -> list[NodeSensorDescription]:
    """Stock level of the shelf and of each product listed on it; takes and returns today."""
    place = {"shelf": shelf.name}
    sensors = [
        NodeSensorDescription(
            key=identifiers.shelf_key(shelf.id, "stock"),
            translation_key="shelf_stock",
            translation_placeholders=place,
            suggested_display_precision=0,
            counts_fn=_shelf_figure(shelf.id, _product_level(None)),
            **PERCENT_NOW,
        ),
        NodeSensorDescription(
            key=identifiers.shelf_key(shelf.id, "taken"),
            translation_key="shelf_taken",
            translation_placeholders=place,
            native_unit_of_measurement="products",
            counts_fn=_shelf_figure(shelf.id, lambda s: s.taken),
            **TODAY,
        ),
        NodeSensorDescription(
            key=identifiers.shelf_key(shelf.id, "returned"),
            translation_key="shelf_returned",
            translation_placeholders=place,
            native_unit_of_measurement="products",
            counts_fn=_shelf_figure(shelf.id, lambda s: s.returned),
            **TODAY,
        ),
    ]
    sensors += [
        NodeSensorDescription(
            key=identifiers.shelf_key(shelf.id, "stock", product.id),
            translation_key="product_stock",
            translation_placeholders={**place, "product": product.name},
            suggested_display_precision=0,
            counts_fn=_shelf_figure(shelf.id, _product_level(product.id)),
            **PERCENT_NOW,
        )
        for product in shelf.products
    ]
    return sensors


class NodeSensor(StorefrontNodeEntity, RestoreSensor):
    entity_description: NodeSensorDescription

    def __init__(self, hub: StoreHub, node_id: str, description: NodeSensorDescription) -> None:
        super().__init__(hub, node_id, description.key)
        self.entity_description = description
        self._restored: StateType | date | datetime | Decimal = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self.entity_description.restore and (last := await self.async_get_last_sensor_data()):
            self._restored = last.native_value

    @property
    def _source(self) -> NodeCounts | NodeVitals | None:
        """The message this sensor reads, once the node has sent it."""
        if self.entity_description.counts_fn is not None:
            return self.node.counts
        return self.node.vitals

    @property
    def available(self) -> bool:
        return super().available and (self._source is not None or self._restored is not None)

    @property
    def native_value(self) -> StateType | date | datetime | Decimal:
        description, counts, vitals = self.entity_description, self.node.counts, self.node.vitals
        if description.counts_fn is not None and counts is not None:
            return description.counts_fn(counts)
        if description.vitals_fn is not None and vitals is not None:
            return description.vitals_fn(vitals)
        if counts is None:
            return self._restored  # the node's retained state has not arrived yet
        return None


class WeighedTakes(StorefrontNodeEntity, SensorEntity):
    """Products taken from a shelf as its scale weighed them, counted only when the camera saw
    a take there within the window; drops the camera did not see are flagged apart."""

    _attr_translation_key = "shelf_weighed"
    _attr_native_unit_of_measurement = "products"
    _attr_state_class = SensorStateClass.TOTAL_INCREASING

    def __init__(self, hub: StoreHub, shelf: Shelf, scale: ShelfScale) -> None:
        super().__init__(hub, scale.node_id, identifiers.shelf_key(shelf.id, "weighed"))
        self.shelf_id, self.scale = shelf.id, scale
        self.fusion = WeightFusion(scale.unit_weight, scale.window_s)
        self._timers: set[CALLBACK_TYPE] = set()  # cancels the windows of drops still waiting
        self._attr_translation_placeholders = {"shelf": shelf.name}

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if (now := self._reading(self.hass.states.get(self.scale.entity_id))) is not None:
            self.fusion.weight(now, self.hass.loop.time())  # the reading drops count from
        self.async_on_remove(
            async_track_state_change_event(self.hass, [self.scale.entity_id], self._weighed)
        )
        self.async_on_remove(self.hub.async_add_event_listener(self._on_event, self.node_id))

    @staticmethod
    def _reading(state: State | None) -> float | None:
        try:
            return None if state is None else float(state.state)
        except ValueError:  # unavailable, unknown
            return None

    @callback
    def _weighed(self, event: Event[EventStateChangedData]) -> None:
        value = self._reading(event.data["new_state"])
        if value is None:
            return
        drop = self.fusion.weight(value, self.hass.loop.time())
        if drop is not None:
            self._wait_for_camera(drop)
        self.async_write_ha_state()

    def _wait_for_camera(self, drop: Drop) -> None:
        """Flag the drop once its window is over, unless the camera confirmed it by then."""

        @callback
        def expire(_now: datetime) -> None:
            self._timers.discard(cancel)
            if self.fusion.expire(drop):
                self.async_write_ha_state()

        cancel = async_call_later(self.hass, self.scale.window_s, expire)
        self._timers.add(cancel)

    async def async_will_remove_from_hass(self) -> None:
        for cancel in self._timers:
            cancel()
        self._timers.clear()
        await super().async_will_remove_from_hass()

    @callback
    def _on_event(self, _node_id: str, event: Message) -> None:
        if (event["type"], event.get("shelf"), event.get("change")) == (
            "shelf",
            self.shelf_id,
            "taken",
        ):
            self.fusion.camera_taken(self.hass.loop.time())
            self.async_write_ha_state()

    @property
    def native_value(self) -> int:
        return self.fusion.counted

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {
            "unconfirmed_drops": self.fusion.flagged,
            "last_count": self.fusion.last_count,
            "last_weight_drop": self.fusion.last_drop,
            "scale": self.scale.entity_id,
            "unit_weight": self.scale.unit_weight,
        }


@dataclass(frozen=True, kw_only=True)
class StoreSensorDescription(SensorEntityDescription):
    value_fn: Callable[[StoreHub], StateType]


def _store_people(hub: StoreHub) -> int:
    return sum(n.counts.people for n in hub.nodes.values() if n.online is not False and n.counts)


def _store_footfall(hub: StoreHub) -> int:
    total = 0
    for node in hub.nodes.values():
        if node.info is None or node.counts is None:
            continue
        for line in node.info.lines:
            counts = node.counts.lines.get(line.id)
            if line.entrance and counts is not None:
                total += counts.entered
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

    def __init__(self, hub: StoreHub, description: StoreSensorDescription) -> None:
        super().__init__(hub, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType:
        return self.entity_description.value_fn(self.hub)


def node_sensors(hub: StoreHub, node_id: str, info: NodeInfo) -> Iterable[SensorEntity]:
    descriptions = list(NODE_SENSORS)
    for zone in info.zones:
        descriptions += _zone_sensors(zone)
    for line in info.lines:
        descriptions += _line_sensors(line)
    for display in info.displays:
        descriptions += _display_sensors(display, info)
    descriptions += _persona_sensors(info)
    for shelf in info.shelves:
        descriptions += _shelf_sensors(shelf)
    sensors: list[SensorEntity] = [NodeSensor(hub, node_id, d) for d in descriptions]
    shelves = {shelf.id: shelf for shelf in info.shelves}
    sensors += [
        WeighedTakes(hub, shelves[scale.shelf_id], scale)
        for scale in hub.options.scales
        if scale.node_id == node_id and scale.shelf_id in shelves
    ]
    return sensors


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    hub = entry.runtime_data.hub
    async_add_entities([StoreSensor(hub, d) for d in STORE_SENSORS])
    async_setup_node_entities(entry, async_add_entities, node_sensors)
    board = entry.runtime_data.offers
    async_setup_node_entities(entry, async_add_entities, per_display(board, display_sensors))


class RecommendedOffer(StorefrontDisplayEntity, SensorEntity):
    """The policy's latest choice for a display and why; per-offer figures as attributes."""

    _attr_translation_key = "recommended_offer"

    def __init__(self, board: DisplayOffers, node_id: str, display_id: str) -> None:
        super().__init__(board, node_id, display_id, "recommended")

    @property
    def native_value(self) -> str | None:
        decision = self.slot.decision
        offer = self.offer(decision.offer_id) if decision is not None else None
        return offer.title if offer is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        slot, decision = self.slot, self.slot.decision
        figures = {
            offer_id: {
                "shown": f["shown"],
                "impressions": f["impressions"],
                "watchers": f["watchers"],
                "engagement_rate": round(f["watchers"] / f["impressions"], 3)
                if f["impressions"]
                else None,
            }
            for offer_id, f in slot.figures.items()
        }
        why: dict[str, object] = {}
        if decision is not None:
            why = {
                "offer_id": decision.offer_id,
                "context": decision.bucket,
                "propensity": round(decision.propensity, 3),
                "scores": decision.scores,
            }
        return {**why, "people": slot.audience.people, "figures": figures}


def display_sensors(board: DisplayOffers, node_id: str, display_id: str) -> list[SensorEntity]:
    return [RecommendedOffer(board, node_id, display_id)]
