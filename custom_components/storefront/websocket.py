"""The websocket commands behind the Storefront panel, for administrators only.

`storefront/layout/get` lists the nodes and gives one node's layout and latest snapshot,
`storefront/layout/set` sends a layout to a node (and says why when the node refuses it),
`storefront/snapshot/request` asks a node for a fresh anonymised snapshot. Each hands the work to
the store's hub; errors are translated `HomeAssistantError`s.
"""

from __future__ import annotations

import base64
from typing import Any, Final

import probatio
from homeassistant.components import websocket_api
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .data import StorefrontConfigEntry
from .hub import StoreHub
from .models import Message, NodeData, Snapshot

LAYOUT_SECTIONS = ("zones", "lines", "displays", "shelves")
# The node a command is about: the store's config entry and the node's id.
NODE_SCHEMA: Final[dict[str | probatio.Marker, Any]] = {
    probatio.Required("entry_id"): str,
    probatio.Required("node_id"): str,
}


@callback
def async_register_websocket_commands(hass: HomeAssistant) -> None:
    """Register the panel's commands once, whatever stores are added later."""
    websocket_api.async_register_command(hass, ws_layout_get)
    websocket_api.async_register_command(hass, ws_layout_set)
    websocket_api.async_register_command(hass, ws_snapshot_request)


def _loaded_hubs(hass: HomeAssistant) -> list[StoreHub]:
    entries: list[StorefrontConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    return [e.runtime_data.hub for e in entries if e.state is ConfigEntryState.LOADED]


def _described_nodes(hass: HomeAssistant) -> list[tuple[StoreHub, NodeData]]:
    return [
        (hub, node)
        for hub in _loaded_hubs(hass)
        for node in sorted(hub.nodes.values(), key=lambda n: n.node_id)
        if node.info is not None
    ]


def _find(hass: HomeAssistant, entry_id: str, node_id: str) -> tuple[StoreHub, NodeData]:
    for hub, node in _described_nodes(hass):
        if hub.entry_id == entry_id and node.node_id == node_id:
            return hub, node
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="unknown_node",
        translation_placeholders={"node": node_id},
    )


def layout_of(description: Message) -> dict[str, Any]:
    """A node's layout, as `set_layout` carries it, from the description it published."""
    return {"version": 1, **{key: list(description.get(key, [])) for key in LAYOUT_SECTIONS}}


def _snapshot_json(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "content_type": "image/jpeg",
        "image": base64.b64encode(snapshot.jpeg).decode("ascii"),
        "width": snapshot.width,
        "height": snapshot.height,
        "ts": snapshot.ts,
    }


@require_admin
@websocket_command(
    {
        probatio.Required("type"): "storefront/layout/get",
        probatio.Optional("entry_id"): str,
        probatio.Optional("node_id"): str,
    }
)
@callback
def ws_layout_get(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every described node, and the layout and latest snapshot of one (the first by default)."""
    nodes = _described_nodes(hass)
    if "node_id" in msg:
        chosen: tuple[StoreHub, NodeData] | None = _find(
            hass, msg.get("entry_id", ""), msg["node_id"]
        )
    else:
        chosen = nodes[0] if nodes else None
    result: dict[str, Any] = {
        "nodes": [
            {
                "entry_id": hub.entry_id,
                "node_id": node.node_id,
                "name": f"{hub.store_name}: {hub.node_name(node.node_id)}",
                "online": node.online,
            }
            for hub, node in nodes
        ],
        "entry_id": None,
        "node_id": None,
        "layout": None,
        "snapshot": None,
    }
    if chosen is not None:
        hub, node = chosen
        assert node.description is not None  # only described nodes are listed
        result |= {
            "entry_id": hub.entry_id,
            "node_id": node.node_id,
            "layout": layout_of(node.description),
            "snapshot": _snapshot_json(node.snapshot),
        }
    connection.send_result(msg["id"], result)


@require_admin
@websocket_command(
    {
        probatio.Required("type"): "storefront/layout/set",
        **NODE_SCHEMA,
        probatio.Required("layout"): dict,
    }
)
@async_response
async def ws_layout_set(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send a layout to a node; the result is the layout the node now runs."""
    hub, node = _find(hass, msg["entry_id"], msg["node_id"])
    description = await hub.async_set_layout(node.node_id, msg["layout"])
    connection.send_result(msg["id"], {"layout": layout_of(description)})


@require_admin
@websocket_command(
    {
        probatio.Required("type"): "storefront/snapshot/request",
        **NODE_SCHEMA,
    }
)
@async_response
async def ws_snapshot_request(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Ask a node for a fresh anonymised snapshot and return it."""
    hub, node = _find(hass, msg["entry_id"], msg["node_id"])
    snapshot = await hub.async_request_snapshot(node.node_id)
    connection.send_result(msg["id"], {"snapshot": _snapshot_json(snapshot)})
