"""Device triggers of a camera node: a shopper entered a zone, someone came in or went out
through a line, someone is watching a display, more people than the capacity the owner set, a
visit of a persona ended, a group of shoppers was counted, a product was taken from or returned
to a shelf, a shelf is running low.

Each trigger is resolved through registries that exist whether or not the store is loaded yet
(automations may be set up before the integration): crossings, watchers, finished visits and
shelf changes listen for the hub's `storefront_event` on the bus, the others follow the node's
own entities.
"""

from __future__ import annotations

from typing import Any, Final

import probatio
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.components.homeassistant.triggers import state as state_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_ENTITY_ID,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HassJob,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from . import identifiers
from .const import CONF_TOPIC_ROOT, DOMAIN
from .hub import EVENT_STOREFRONT
from .models import PERSONAS

CONF_SUBTYPE: Final = "subtype"
ZONE_ENTERED: Final = "zone_entered"
CROSSING_IN: Final = "crossing_in"
CROSSING_OUT: Final = "crossing_out"
OVER_CAPACITY: Final = "over_capacity"
DISPLAY_WATCHED: Final = "display_watched"
OFFER_CHANGED: Final = "offer_changed"  # a display's device: another offer is on screen
PERSONA_VISIT: Final = "persona_visit"
GROUP_ENTERED: Final = "group_entered"
PRODUCT_TAKEN: Final = "product_taken"
PRODUCT_RETURNED: Final = "product_returned"
STOCK_LOW: Final = "stock_low"
TRIGGER_TYPES: Final = (
    ZONE_ENTERED,
    CROSSING_IN,
    CROSSING_OUT,
    DISPLAY_WATCHED,
    OVER_CAPACITY,
    OFFER_CHANGED,
    PERSONA_VISIT,
    GROUP_ENTERED,
    PRODUCT_TAKEN,
    PRODUCT_RETURNED,
    STOCK_LOW,
)
# The node's shelf event `change` each shelf trigger listens for.
SHELF_CHANGES: Final = {PRODUCT_TAKEN: "taken", PRODUCT_RETURNED: "returned"}
# Triggers on the hub's events, and the event field their subtype narrows down.
EVENT_SUBTYPES: Final = {
    CROSSING_IN: "line",
    CROSSING_OUT: "line",
    DISPLAY_WATCHED: "display",
    PERSONA_VISIT: "persona",
    PRODUCT_TAKEN: "shelf",
    PRODUCT_RETURNED: "shelf",
}

# The subtype names the zone (zone_entered, required), the line (crossings; left out: any line),
# the display (display_watched; left out: any display), the persona (persona_visit; left out:
# any persona) or the shelf (product_taken and product_returned: left out, any shelf;
# stock_low: required).
TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        probatio.Required(CONF_TYPE): probatio.In(TRIGGER_TYPES),
        probatio.Optional(CONF_SUBTYPE): cv.string,
    }
)


class _Node:
    """The store entry and node id behind a device, with the ids of its zones and lines."""

    def __init__(self, hass: HomeAssistant, device_id: str) -> None:
        device = dr.async_get(hass).async_get(device_id)
        if device is None:
            raise InvalidDeviceAutomationConfig(f"There is no device {device_id}")
        found = identifiers.node_of_device(device.identifiers)
        entry = hass.config_entries.async_get_entry(found[0]) if found else None
        if found is None or entry is None:
            raise InvalidDeviceAutomationConfig(f"{device.name} is not a Storefront camera node")
        self.entry_id, self.node_id = found
        self.topic_root = str(entry.data[CONF_TOPIC_ROOT])
        self._unique_ids = [
            e.unique_id for e in er.async_entries_for_device(er.async_get(hass), device_id)
        ]

    def _ids(self, kind: str, what: str) -> list[str]:
        return identifiers.ids_in_keys(self.entry_id, self.node_id, self._unique_ids, kind, what)

    @property
    def zones(self) -> list[str]:
        return self._ids("zone", "people")

    @property
    def lines(self) -> list[str]:
        return self._ids("line", "crossing")

    @property
    def displays(self) -> list[str]:
        return self._ids("display", "impression")

    @property
    def personas(self) -> list[str]:
        return self._ids("persona", "today")

    @property
    def shelves(self) -> list[str]:
        return self._ids("shelf", "change")

    def entity_id(self, hass: HomeAssistant, platform: str, key: str) -> str:
        unique_id = identifiers.node_unique_id(self.entry_id, self.node_id, key)
        entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
        if entity_id is None:
            raise InvalidDeviceAutomationConfig(
                f"Node {self.node_id} has no {platform} entity {key}"
            )
        return entity_id


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    config = TRIGGER_SCHEMA(config)
    if config[CONF_TYPE] == ZONE_ENTERED and CONF_SUBTYPE not in config:
        raise InvalidDeviceAutomationConfig("A zone_entered trigger names its zone in `subtype`")
    if config[CONF_TYPE] == PERSONA_VISIT and config.get(CONF_SUBTYPE, PERSONAS[0]) not in PERSONAS:
        raise InvalidDeviceAutomationConfig(
            f"A persona_visit trigger's `subtype` is one of {', '.join(PERSONAS)}, or left out "
            "for any persona"
        )
    if config[CONF_TYPE] == STOCK_LOW and CONF_SUBTYPE not in config:
        raise InvalidDeviceAutomationConfig("A stock_low trigger names its shelf in `subtype`")
    return config


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """What a node or a display offers in the automation editor; the store hub device offers
    nothing."""
    if _display_select(hass, device_id) is not None:
        return [
            {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id}
            | {CONF_TYPE: OFFER_CHANGED}
        ]
    try:
        node = _Node(hass, device_id)
    except InvalidDeviceAutomationConfig:
        return []
    base = {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id}
    triggers = [{**base, CONF_TYPE: ZONE_ENTERED, CONF_SUBTYPE: zone} for zone in node.zones]
    for line in node.lines:
        triggers += [
            {**base, CONF_TYPE: kind, CONF_SUBTYPE: line} for kind in (CROSSING_IN, CROSSING_OUT)
        ]
    triggers += [
        {**base, CONF_TYPE: DISPLAY_WATCHED, CONF_SUBTYPE: display} for display in node.displays
    ]
    triggers.append({**base, CONF_TYPE: OVER_CAPACITY})
    triggers += [{**base, CONF_TYPE: PERSONA_VISIT, CONF_SUBTYPE: p} for p in node.personas]
    if node.personas:  # groups are found with personas
        triggers.append({**base, CONF_TYPE: GROUP_ENTERED})
    for shelf in node.shelves:
        triggers += [
            {**base, CONF_TYPE: kind, CONF_SUBTYPE: shelf}
            for kind in (PRODUCT_TAKEN, PRODUCT_RETURNED, STOCK_LOW)
        ]
    return triggers


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    kind = config[CONF_TYPE]
    if kind == OFFER_CHANGED:
        return await _attach_offer_changed(hass, config, action, trigger_info)
    node = _Node(hass, config[CONF_DEVICE_ID])
    if kind in EVENT_SUBTYPES:
        event_data = {"store": node.topic_root, "node_id": node.node_id, **_event_of(kind)}
        if CONF_SUBTYPE in config:
            event_data[EVENT_SUBTYPES[kind]] = config[CONF_SUBTYPE]
        event_config = event_trigger.TRIGGER_SCHEMA(
            {
                CONF_PLATFORM: "event",
                event_trigger.CONF_EVENT_TYPE: EVENT_STOREFRONT,
                CONF_EVENT_DATA: event_data,
            }
        )
        return await event_trigger.async_attach_trigger(
            hass, event_config, action, trigger_info, platform_type="device"
        )
    if kind in (OVER_CAPACITY, STOCK_LOW):
        key = (
            "over_capacity"
            if kind == OVER_CAPACITY
            else identifiers.shelf_key(config[CONF_SUBTYPE], "low")
        )
        state_config = state_trigger.TRIGGER_STATE_SCHEMA(
            {
                CONF_PLATFORM: "state",
                CONF_ENTITY_ID: node.entity_id(hass, "binary_sensor", key),
                state_trigger.CONF_FROM: "off",
                state_trigger.CONF_TO: "on",
            }
        )
        return await state_trigger.async_attach_trigger(
            hass, state_config, action, trigger_info, platform_type="device"
        )
    if kind == GROUP_ENTERED:
        key = "groups_today"
    else:
        key = identifiers.zone_key(config[CONF_SUBTYPE], "people")
    entity_id = node.entity_id(hass, "sensor", key)
    return _attach_count_rises(hass, entity_id, config, action, trigger_info)


def _event_of(kind: str) -> dict[str, Any]:
    """What the hub's event of a trigger kind carries, apart from its subtype."""
    if kind == DISPLAY_WATCHED:  # a person who looked at the display (node's attention on)
        return {"type": "impression", "looked": True}
    if kind == PERSONA_VISIT:
        return {"type": "visit"}
    if kind in SHELF_CHANGES:
        return {"type": "shelf", "change": SHELF_CHANGES[kind]}
    return {"type": "crossing", "direction": "in" if kind == CROSSING_IN else "out"}


def _attach_count_rises(
    hass: HomeAssistant,
    entity_id: str,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Fires each time a count sensor goes up, not only when it stops being zero: a second
    shopper at the window (a zone's head count) or a further group today counts too."""
    job = HassJob(action)
    trigger_data = trigger_info["trigger_data"]

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or new is None:
            return
        try:
            before, after = float(old.state), float(new.state)
        except ValueError:  # unavailable / unknown: no entry to speak of
            return
        if after <= before:
            return
        hass.async_run_hass_job(
            job,
            {
                "trigger": {
                    **trigger_data,
                    **config,
                    CONF_ENTITY_ID: entity_id,
                    "from_state": old,
                    "to_state": new,
                    "description": f"{new.name} went from {old.state} to {new.state}",
                }
            },
            event.context,
        )

    return async_track_state_change_event(hass, [entity_id], _changed)


def _display_select(hass: HomeAssistant, device_id: str) -> str | None:
    """The entity id of a display device's offer select; None for other devices."""
    device = dr.async_get(hass).async_get(device_id)
    found = identifiers.display_of_device(device.identifiers) if device is not None else None
    if found is None:
        return None
    entry_id, node_id, display_id = found
    unique_id = identifiers.node_unique_id(
        entry_id, node_id, identifiers.display_key(display_id, "offer")
    )
    return er.async_get(hass).async_get_entity_id("select", DOMAIN, unique_id)


async def _attach_offer_changed(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Another offer on the display's screen: its select's state changes (not attributes)."""
    entity_id = _display_select(hass, config[CONF_DEVICE_ID])
    if entity_id is None:
        raise InvalidDeviceAutomationConfig("offer_changed needs a Storefront display device")
    state_config = state_trigger.TRIGGER_STATE_SCHEMA(
        {CONF_PLATFORM: "state", CONF_ENTITY_ID: entity_id, state_trigger.CONF_TO: None}
    )
    return await state_trigger.async_attach_trigger(
        hass, state_config, action, trigger_info, platform_type="device"
    )
