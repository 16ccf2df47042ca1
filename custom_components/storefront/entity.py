"""Base entities (one device per camera node, one for the store) and the one set-up every
platform uses to keep its per-node entities in step with the nodes' descriptions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import identifiers
from .data import StorefrontConfigEntry
from .devices import node_device_info, store_device_info
from .hub import StoreHub
from .models import NodeData, NodeInfo

# Builds a platform's entities of one node from its description (a zone, a line: an entity).
type NodeEntities = Callable[[StoreHub, str, NodeInfo], Iterable[Entity]]


class StorefrontEntity(Entity):
    """Pushed by the store hub; never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: StoreHub) -> None:
        self.hub = hub

    @callback
    def _handle_hub_update(self) -> None:
        self.async_write_ha_state()


class StorefrontNodeEntity(StorefrontEntity):
    """An entity of one camera node, updated with its node only; unavailable while the node is
    offline."""

    def __init__(self, hub: StoreHub, node_id: str, key: str) -> None:
        super().__init__(hub)
        self.node_id = node_id
        self._attr_unique_id = identifiers.node_unique_id(hub.entry_id, node_id, key)
        self._attr_device_info = node_device_info(hub.entry_id, node_id)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.async_add_node_listener(self.node_id, self._handle_hub_update)
        )

    @property
    def node(self) -> NodeData:
        # A node the owner just removed has no data; its entities are going away with it.
        return self.hub.nodes.get(self.node_id) or NodeData(self.node_id)

    @property
    def available(self) -> bool:
        # Unknown availability (garbage on the topic) keeps showing the retained values.
        return self.node_id in self.hub.nodes and self.node.online is not False


class StorefrontStoreEntity(StorefrontEntity):
    """An entity of the whole store, on the hub device; follows every node."""

    def __init__(self, hub: StoreHub, key: str) -> None:
        super().__init__(hub)
        self._attr_unique_id = identifiers.store_unique_id(hub.entry_id, key)
        self._attr_device_info = store_device_info(hub.entry_id)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_store_listener(self._handle_hub_update))


@callback
def async_setup_node_entities(
    entry: StorefrontConfigEntry, async_add_entities: AddEntitiesCallback, make: NodeEntities
) -> None:
    """A platform's per-node entities: added when a node describes itself, and added or
    removed when its description changes, for as long as the store is loaded."""
    hub = entry.runtime_data.hub
    watcher = NodeWatcher(hub, make, async_add_entities)
    watcher.check()
    entry.async_on_unload(hub.async_add_description_listener(watcher.check))


class NodeWatcher:
    """Keeps one platform's entities of each node in step with the node's description.

    A node's entities are added when its description first arrives (no reload needed). When a
    later description adds a zone or a line (the owner edited the node's file and reloaded it),
    the new entities are added; entities of a zone or line that is gone are removed from the
    entity registry, so nothing is left behind reporting a zone that no longer exists.
    """

    def __init__(
        self, hub: StoreHub, make: NodeEntities, add: Callable[[list[Entity]], None]
    ) -> None:
        self.hub = hub
        self.make = make
        self.add = add
        self._seen: dict[str, NodeInfo] = {}  # node id -> the description last acted on
        self._added: dict[str, set[str]] = {}  # node id -> unique ids of its entities

    @callback
    def check(self) -> None:
        for node_id in [n for n in self._seen if n not in self.hub.nodes]:
            del self._seen[node_id]  # forgotten: may come back as new
            self._added.pop(node_id, None)
        for node_id, node in list(self.hub.nodes.items()):
            if node.info is None or node.info is self._seen.get(node_id):
                continue
            first = node_id not in self._seen
            self._seen[node_id] = node.info
            entities = list(self.make(self.hub, node_id, node.info))
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
