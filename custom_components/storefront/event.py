"""Event entities: one per counting line, firing `in` or `out` for every person who crosses
(each crossing once, replays after reconnects are dropped by the store hub)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import StorefrontConfigEntry
from .coordinator import StoreHub
from .entity import NodeWatcher, StorefrontNodeEntity

# Pushed by the store hub: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0


class LineCrossing(StorefrontNodeEntity, EventEntity):
    _attr_translation_key = "crossing"
    _attr_event_types = ["in", "out"]  # noqa: RUF012 (the HA base class declares it so)

    def __init__(self, hub: StoreHub, node_id: str, line_id: str, line_name: str) -> None:
        super().__init__(hub, node_id, f"line_{line_id}_crossing")
        self.line_id = line_id
        self._attr_translation_placeholders = {"line": line_name}

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_event_listener(self._on_event))

    @callback
    def _on_event(self, node_id: str, event: dict[str, Any]) -> None:
        if node_id != self.node_id or event["type"] != "crossing":
            return
        if event["line"] != self.line_id:
            return
        self._trigger_event(event["direction"], {"track": event["track"], "seq": event["seq"]})
        self.async_write_ha_state()


def node_events(hub: StoreHub, node_id: str) -> list[Entity]:
    lines = (hub.nodes[node_id].description or {}).get("lines", [])
    return [LineCrossing(hub, node_id, line["id"], line["name"]) for line in lines]


async def async_setup_entry(
    hass: HomeAssistant, entry: StorefrontConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    hub = entry.runtime_data
    watcher = NodeWatcher(hub, lambda node_id: node_events(hub, node_id), async_add_entities)
    watcher.check()
    entry.async_on_unload(hub.async_add_listener(watcher.check))
