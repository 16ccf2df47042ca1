"""What a loaded store's config entry holds (`entry.runtime_data`)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .hub import StoreHub

type StorefrontConfigEntry = ConfigEntry[StorefrontData]


@dataclass(slots=True)
class StorefrontData:
    """Everything one store owns while it is loaded: its hub, which owns the rest (MQTT,
    sequence book, export, devices, commands)."""

    hub: StoreHub
