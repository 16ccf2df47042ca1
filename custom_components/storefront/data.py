"""What a loaded store's config entry holds (`entry.runtime_data`)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .display_offers import DisplayOffers
from .hub import StoreHub

type StorefrontConfigEntry = ConfigEntry[StorefrontData]


@dataclass(slots=True)
class StorefrontData:
    """Everything one store owns while it is loaded: its hub, which owns the rest (MQTT,
    sequence book, export, devices, commands), and what its displays show."""

    hub: StoreHub
    offers: DisplayOffers
