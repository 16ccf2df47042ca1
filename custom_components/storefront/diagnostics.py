"""Diagnostics: what the store hub knows, for a bug report, without identifying the shop."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_STORE_NAME
from .data import StorefrontConfigEntry

# The store's name and the entry title name the business; hardware strings can carry serials;
# the export's connection holds credentials and an address.
TO_REDACT = {CONF_STORE_NAME, "title", "hw_version", "url", "username", "password", "token", "org"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: StorefrontConfigEntry
) -> dict[str, Any]:
    hub = entry.runtime_data.hub
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "topic_root": hub.topic_root,
        "export": hub.export.diagnostics() if hub.export is not None else {"enabled": False},
        "rejected": {
            "total": hub.rejects.total,
            "by_kind": dict(hub.rejects.by_kind),
            "last_error": hub.rejects.last_error,
        },
        "delivery": {
            "duplicates": hub.sequences.duplicates,
            "refused": hub.sequences.refused,
            "lost": hub.sequences.lost,
            "replays_requested": hub.replays_requested,
            "streams": hub.sequences.as_dict(),
        },
        "nodes": {
            node_id: async_redact_data(
                {
                    "online": node.online,
                    "description": node.description,
                    "state": node.state,
                    "health": node.health,
                },
                TO_REDACT,
            )
            for node_id, node in hub.nodes.items()
        },
        "offers": entry.runtime_data.offers.diagnostics(),
    }
