"""Automatic offer choice, per display: on, the policy chooses; off, the pinned offer stays."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import StorefrontConfigEntry
from .display_entity import StorefrontDisplayEntity, async_setup_display_entities
from .display_offers import DisplayOffers

PARALLEL_UPDATES = 0


class AutomaticChoice(StorefrontDisplayEntity, SwitchEntity):
    _attr_translation_key = "automatic_offer"
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, board: DisplayOffers, node_id: str, display_id: str) -> None:
        super().__init__(board, node_id, display_id, "automatic")

    @property
    def is_on(self) -> bool:
        return self.slot.auto

    async def async_turn_on(self, **kwargs: Any) -> None:
        self.board.set_auto(self.node_id, self.display_id, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        self.board.set_auto(self.node_id, self.display_id, False)


def display_switches(board: DisplayOffers, node_id: str, display_id: str) -> Iterable[SwitchEntity]:
    return [AutomaticChoice(board, node_id, display_id)]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StorefrontConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_setup_display_entities(entry, async_add_entities, display_switches)
