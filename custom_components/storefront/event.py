"""Event entities: one per counting line, firing `in` or `out` for every person who crosses, and
one per display, firing `impression` or `watcher` for every person who dwelt there (each event
once, replays after reconnects are dropped by the store hub), and one per shelf, firing its
change: taken, returned, restocked, low or empty."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import identifiers
from .data import StorefrontConfigEntry
from .entity import StorefrontNodeEntity, async_setup_node_entities
from .hub import StoreHub
from .models import Display, Line, Message, NodeInfo, Shelf

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class _NodeEvent(StorefrontNodeEntity, EventEntity):
    """Hears every event of its node from the store hub; `_on_event` picks its own."""

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_event_listener(self._on_event, self.node_id))

    @callback
    def _on_event(self, _node_id: str, event: Message) -> None:
        raise NotImplementedError


class LineCrossing(_NodeEvent):
    _attr_translation_key = "crossing"
    _attr_event_types = ["in", "out"]  # noqa: RUF012 (the HA base class declares it so)

    def __init__(self, hub: StoreHub, node_id: str, line: Line) -> None:
        super().__init__(hub, node_id, identifiers.line_key(line.id, "crossing"))
        self.line_id = line.id
        self._attr_translation_placeholders = {"line": line.name}

    @callback
    def _on_event(self, _node_id: str, event: Message) -> None:
        if event["type"] != "crossing" or event["line"] != self.line_id:
            return
        self._trigger_event(event["direction"], {"track": event["track"], "seq": event["seq"]})
        self.async_write_ha_state()


class DisplayImpression(_NodeEvent):
    """`watcher` for a person who looked at the display (attention on), else `impression`."""

    _attr_translation_key = "impression"
    _attr_event_types = ["impression", "watcher"]  # noqa: RUF012 (the HA base class declares it so)

    def __init__(self, hub: StoreHub, node_id: str, display: Display) -> None:
        super().__init__(hub, node_id, identifiers.display_key(display.id, "impression"))
        self.display_id = display.id
        self._attr_translation_placeholders = {"display": display.name}

    @callback
    def _on_event(self, _node_id: str, event: Message) -> None:
        if event["type"] != "impression" or event["display"] != self.display_id:
            return
        attributes = {
            key: event[key]
            for key in ("track", "duration_s", "attention_s", "offer", "seq")
            if key in event
        }
        self._trigger_event("watcher" if event["looked"] else "impression", attributes)
        self.async_write_ha_state()


class ShelfChange(_NodeEvent):
    """A change the node saw on the shelf, with the product, its level after it and how many
    facings changed."""

    _attr_translation_key = "shelf_change"
    _attr_event_types = ["taken", "returned", "restocked", "low", "empty"]  # noqa: RUF012

    def __init__(self, hub: StoreHub, node_id: str, shelf: Shelf) -> None:
        super().__init__(hub, node_id, identifiers.shelf_key(shelf.id, "change"))
        self.shelf_id = shelf.id
        self._attr_translation_placeholders = {"shelf": shelf.name}

    @callback
    def _on_event(self, _node_id: str, event: Message) -> None:
        if event["type"] != "shelf" or event["shelf"] != self.shelf_id:
            return
        attributes = {
            key: event[key]
            for key in ("product", "level", "count", "magnitude", "track", "seq")
            if key in event
        }
        self._trigger_event(event["change"], attributes)
        self.async_write_ha_state()


def node_events(hub: StoreHub, node_id: str, info: NodeInfo) -> Iterable[EventEntity]:
    lines: list[EventEntity] = [LineCrossing(hub, node_id, line) for line in info.lines]
    displays = [DisplayImpression(hub, node_id, display) for display in info.displays]
    return lines + displays + [ShelfChange(hub, node_id, shelf) for shelf in info.shelves]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_node_entities(entry, async_add_entities, node_events)
