"""The names a store gives its devices and entities in Home Assistant's registries.

Every platform, the device triggers, the actions and device removal build and read these names
here and nowhere else:

- the store's hub device: `(storefront, <entry id>)`;
- a camera node's device: `(storefront, <entry id>_<node id>)`;
- an entity of a node: unique id `<entry id>_<node id>_<key>`, with per-zone keys
  `zone_<zone id>_<what>`, per-line keys `line_<line id>_<what>`, per-persona keys
  `persona_<persona>_<what>`, per-shelf keys `shelf_<shelf id>_<what>` and per-product keys
  `shelf_<shelf id>_product_<product id>_<what>`;
- an entity of the store: unique id `<entry id>_store_<key>`;
- a display of a node: device `(storefront, <entry id>_<node id>/<display id>)`, its entities
  node entities with keys `display_<display id>_<what>`.

Config entry ids never contain `_` and node ids are checked against the contract, so a node's
identifier splits back into (entry id, node id) at its first `_`.
"""

from __future__ import annotations

from collections.abc import Iterable

from .const import DOMAIN

type DeviceIdentifier = tuple[str, str]


def store_device(entry_id: str) -> DeviceIdentifier:
    """The store's hub device."""
    return (DOMAIN, entry_id)


def node_device(entry_id: str, node_id: str) -> DeviceIdentifier:
    """A camera node's device."""
    return (DOMAIN, f"{entry_id}_{node_id}")


def node_of_device(identifiers: Iterable[DeviceIdentifier]) -> tuple[str, str] | None:
    """(entry id, node id) of a node's device; None for the hub device and other domains."""
    for domain, identifier in identifiers:
        entry_id, _, node_id = identifier.partition("_")
        if domain == DOMAIN and entry_id and node_id and "/" not in node_id:
            return entry_id, node_id
    return None


def node_unique_id(entry_id: str, node_id: str, key: str) -> str:
    """An entity of one node, e.g. key `people` or `zone_window_occupied`."""
    return f"{entry_id}_{node_id}_{key}"


def store_unique_id(entry_id: str, key: str) -> str:
    """An entity of the whole store, on the hub device."""
    return f"{entry_id}_store_{key}"


def zone_key(zone_id: str, what: str) -> str:
    """The key of a zone's entity, e.g. `zone_window_people`."""
    return f"zone_{zone_id}_{what}"


def line_key(line_id: str, what: str) -> str:
    """The key of a line's entity, e.g. `line_door_crossing` or `line_door_in`."""
    return f"line_{line_id}_{what}"


def display_key(display_id: str, what: str) -> str:
    """The key of a display's entity, e.g. `display_window_passers`."""
    return f"display_{display_id}_{what}"


def persona_key(persona: str, what: str) -> str:
    """The key of a persona's entity, e.g. `persona_browser_today`."""
    return f"persona_{persona}_{what}"


def shelf_key(shelf_id: str, what: str, product_id: str | None = None) -> str:
    """The key of a shelf's entity, e.g. `shelf_coffee_stock`, or of one of its products,
    e.g. `shelf_coffee_product_espresso_stock`."""
    if product_id is None:
        return f"shelf_{shelf_id}_{what}"
    return f"shelf_{shelf_id}_product_{product_id}_{what}"


def ids_in_keys(
    entry_id: str, node_id: str, unique_ids: Iterable[str], kind: str, what: str
) -> list[str]:
    """The ids of a `kind` ("zone", "line", "display", "persona", "shelf") whose `what` entity
    is among a node's unique ids, sorted: what a node offers while its store is not loaded."""
    prefix = node_unique_id(entry_id, node_id, f"{kind}_")
    suffix = f"_{what}"
    return sorted(
        unique_id[len(prefix) : -len(suffix)]
        for unique_id in unique_ids
        if unique_id.startswith(prefix)
        and unique_id.endswith(suffix)
        and len(unique_id) > len(prefix) + len(suffix)
    )


def display_device(entry_id: str, node_id: str, display_id: str) -> DeviceIdentifier:
    """A display's device ("/" never occurs in ids, so it is never taken for a node's)."""
    return (DOMAIN, f"{entry_id}_{node_id}/{display_id}")


def display_of_device(identifiers: Iterable[DeviceIdentifier]) -> tuple[str, str, str] | None:
    """(entry id, node id, display id) of a display's device; None for any other device."""
    for domain, identifier in identifiers:
        entry_id, _, rest = identifier.partition("_")
        node_id, _, display_id = rest.partition("/")
        if domain == DOMAIN and entry_id and node_id and display_id:
            return entry_id, node_id, display_id
    return None
