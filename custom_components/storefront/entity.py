"""Base entities: one device per camera node (via the store's hub device), one for the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    """Adds a node's entities once, when its description first arrives (no reload needed)."""

    def __init__(
        self,
        hub: StoreHub,
        make: Callable[[str], list[Entity]],
        add: Callable[[list[Entity]], None],
    ) -> None:
        self.hub = hub
        self.make = make
        self.add = add
        self.known: set[str] = set()

    def check(self) -> None:
        new = [
            node_id
            for node_id, node in self.hub.nodes.items()
            if node.description is not None and node_id not in self.known
        ]
        for node_id in new:
            self.known.add(node_id)
            self.add(self.make(node_id))
