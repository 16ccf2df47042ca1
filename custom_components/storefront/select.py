"""The offer on screen, per display: the owner picks one to pin it there."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import StorefrontConfigEntry
from .display_entity import StorefrontDisplayEntity, async_setup_display_entities
from .display_offers import DisplayOffers

PARALLEL_UPDATES = 0


class OfferOnScreen(StorefrontDisplayEntity, SelectEntity):
    """Options are the catalogue's titles; the state is the title on screen now."""

    _attr_translation_key = "offer_on_screen"

    def __init__(self, board: DisplayOffers, node_id: str, display_id: str) -> None:
        super().__init__(board, node_id, display_id, "offer")

    @property
    def options(self) -> list[str]:
        return sorted(o.title for o in self.board.catalogue().values())

    @property
    def current_option(self) -> str | None:
        offer = self.offer(self.slot.on_screen)
        return offer.title if offer is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        return {
            **self.board.content(self.node_id, self.display_id),
            "pinned": not self.slot.auto,
            "display": self.display_id,
            "screen_url": self.board.screen_url(self.node_id, self.display_id),
        }

    async def async_select_option(self, option: str) -> None:
        offer_id = next(o.offer_id for o in self.board.catalogue().values() if o.title == option)
        self.board.pin(self.node_id, self.display_id, offer_id)


def display_selects(board: DisplayOffers, node_id: str, display_id: str) -> Iterable[SelectEntity]:
    return [OfferOnScreen(board, node_id, display_id)]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_display_entities(entry, async_add_entities, display_selects)
