"""The base of a display's entities: one device per display of a node, linked to the node's
device, pushed by the store's display board."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import identifiers
from .data import StorefrontConfigEntry
from .display_offers import DisplayOffers, DisplaySlot, display_key
from .entity import NodeEntities, StorefrontNodeEntity, async_setup_node_entities
from .hub import StoreHub
from .models import NodeInfo
from .offers import Offer

type DisplayEntities = Callable[[DisplayOffers, str, str], Iterable[Entity]]


class StorefrontDisplayEntity(StorefrontNodeEntity):
    """An entity of one display; unavailable while its node is offline."""

    def __init__(self, board: DisplayOffers, node_id: str, display_id: str, what: str) -> None:
        super().__init__(board.hub, node_id, identifiers.display_key(display_id, what))
        self.board = board
        self.display_id = display_id
        self._attr_device_info = DeviceInfo(
            identifiers={identifiers.display_device(board.hub.entry_id, node_id, display_id)}
        )

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.board.async_add_listener(self._handle_hub_update))

    @property
    def slot(self) -> DisplaySlot:
        """What the board knows of this display."""
        key = display_key(self.node_id, self.display_id)
        return self.board.slots.get(key) or DisplaySlot(self.node_id, self.display_id)

    def offer(self, offer_id: str | None) -> Offer | None:
        """An offer of the catalogue by id."""
        return self.board.catalogue().get(offer_id) if offer_id else None


def per_display(board: DisplayOffers, make: DisplayEntities) -> NodeEntities:
    """A node's entities for each display its description lists."""

    def node_entities(hub: StoreHub, node_id: str, info: NodeInfo) -> list[Entity]:
        displays = info.message.get("displays", [])
        return [e for d in displays for e in make(board, node_id, d["id"])]

    return node_entities


@callback
def async_setup_display_entities(
    entry: StorefrontConfigEntry, async_add_entities: AddEntitiesCallback, make: DisplayEntities
) -> None:
    """A platform's per-display entities, kept in step with the nodes' descriptions."""
    board = entry.runtime_data.offers
    async_setup_node_entities(entry, async_add_entities, per_display(board, make))
