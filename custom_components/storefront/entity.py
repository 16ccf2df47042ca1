"""Base entities: one device per camera node (via the store's hub device), one for the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .coordinator import NodeData, StoreHub


def node_device_id(entry_id: str, node_id: str) -> str:
    """The device registry identifier of a node (the actions map it back to the node)."""
    return f"{entry_id}_{node_id}"


class StorefrontEntity(Entity):
    """Pushed by the store hub; never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: StoreHub, key: str) -> None:
        self.hub = hub
        self._attr_unique_id = f"{hub.entry_id}_{key}"

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_listener(self._handle_hub_update))

    def _handle_hub_update(self) -> None:
        self.async_write_ha_state()


class StorefrontNodeEntity(StorefrontEntity):
    """An entity of one camera node; unavailable while the node is offline."""

    def __init__(self, hub: StoreHub, node_id: str, key: str) -> None:
        super().__init__(hub, f"{node_id}_{key}")
        self.node_id = node_id
        description = hub.nodes[node_id].description or {}
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, node_device_id(hub.entry_id, node_id))},
            name=description.get("name", node_id),
            manufacturer="Storefront",
            model=description.get("model", {}).get("name"),
            sw_version=description.get("sw_version"),
            hw_version=description.get("hw_version"),
            via_device=(DOMAIN, hub.entry_id),
        )

    def _handle_hub_update(self) -> None:
        if self.hub.changed_node in (None, self.node_id):
            self.async_write_ha_state()

    @property
    def node(self) -> NodeData:
        # A node the owner just removed has no data; its entities are going away with it.
        return self.hub.nodes.get(self.node_id) or NodeData(self.node_id)

    @property
    def available(self) -> bool:
        return self.node_id in self.hub.nodes and self.node.online


class StorefrontStoreEntity(StorefrontEntity):
    """An entity of the whole store, on the hub device."""

    def __init__(self, hub: StoreHub, key: str, store_name: str) -> None:
        super().__init__(hub, f"store_{key}")
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, hub.entry_id)},
            name=store_name,
            manufacturer="Storefront",
            model="Store hub",
        )


def dig(data: dict[str, Any] | None, *path: str) -> Any:
    """data[path[0]][path[1]]..., or None where any step is missing."""
    value: Any = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


class NodeWatcher:
    """Keeps one platform's entities of each node in step with the node's description.

    A node's entities are added when its description first arrives (no reload needed). When a
    later description adds a zone or a line (the owner edited the node's file and reloaded it),
    the new entities are added; entities of a zone or line that is gone are removed from the
    entity registry, so nothing is left behind reporting a zone that no longer exists.
    """

    def __init__(
        self,
        hub: StoreHub,
        make: Callable[[str], list[Entity]],
        add: Callable[[list[Entity]], None],
    ) -> None:
        self.hub = hub
        self.make = make
        self.add = add
        self._seen: dict[str, dict[str, Any]] = {}  # node id -> the description last acted on
        self._added: dict[str, set[str]] = {}  # node id -> unique ids of its entities

    def check(self) -> None:
        for node_id in [n for n in self._seen if n not in self.hub.nodes]:
            del self._seen[node_id]  # forgotten: may come back as new
            self._added.pop(node_id, None)
        for node_id, node in list(self.hub.nodes.items()):
            if node.description is None or node.description is self._seen.get(node_id):
                continue
            first = node_id not in self._seen
            self._seen[node_id] = node.description
            entities = self.make(node_id)
            wanted = {str(entity.unique_id) for entity in entities}
            added = self._added.setdefault(node_id, set())
            new = [entity for entity in entities if entity.unique_id not in added]
            if not first:
                self._remove(added - wanted)
            added.intersection_update(wanted)
            added.update(str(entity.unique_id) for entity in new)
            if new:
                self.add(new)

    def _remove(self, unique_ids: set[str]) -> None:
        registry = er.async_get(self.hub.hass)
        for unique_id in unique_ids:
            for entity_id in [
                e.entity_id
                for e in er.async_entries_for_config_entry(registry, self.hub.entry_id)
                if e.unique_id == unique_id
            ]:
                registry.async_remove(entity_id)
