"""Actions the owner can run on a node: reset its counters, ask it for a snapshot, make it
re-read its configuration file (and say why, when the node refuses the new one)."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any, Final

import voluptuous as vol
from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from . import contract
from .const import DOMAIN
from .coordinator import StoreHub

SERVICE_RESET_COUNTERS: Final = "reset_counters"
SERVICE_REQUEST_SNAPSHOT: Final = "request_snapshot"
SERVICE_RELOAD_CONFIG: Final = "reload_config"
# How long reload_config waits for the node's answer; a node handles commands between frames.
REPLY_TIMEOUT_S: Final = 15.0
ATTR_DEVICE_ID: Final = "device_id"

SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})


def _node_of(hass: HomeAssistant, device_id: str) -> tuple[StoreHub, str]:
    """(the store's hub, node id) of the Storefront node behind a device."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_device",
            translation_placeholders={"device_id": device_id},
        )
    for domain, identifier in device.identifiers:
        if domain != DOMAIN or "_" not in identifier:
            continue
        entry_id, node_id = identifier.split("_", 1)
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="store_not_loaded",
                translation_placeholders={"device": device.name or device_id},
            )
        hub: StoreHub = entry.runtime_data
        return hub, node_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_node",
        translation_placeholders={"device": device.name or device_id},
    )


async def async_send_command(
    hass: HomeAssistant, device_id: str, command: str, *, wait: bool = False
) -> dict[str, Any] | None:
    """Publish a contract command to the node behind `device_id`.

    With `wait`, return the node's reply, and raise when the node refuses the command (with its
    reason) or does not answer in time; without, return None once the broker has it.
    """
    hub, node_id = _node_of(hass, device_id)
    request_id = secrets.token_hex(6)
    payload = {"schema": contract.VERSION, "id": request_id, "command": command}
    contract.validate("command", payload)
    reply = hub.expect_reply(request_id) if wait else None
    try:
        await mqtt.async_publish(
            hass, contract.topic("command", hub.topic_root, node_id), json.dumps(payload), qos=1
        )
        if reply is None:
            return None
        async with asyncio.timeout(REPLY_TIMEOUT_S):
            answer: dict[str, Any] = await reply
    except HomeAssistantError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_failed",
            translation_placeholders={"command": command, "error": str(err)},
        ) from err
    except TimeoutError:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="no_reply",
            translation_placeholders={
                "command": command,
                "node": node_id,
                "seconds": f"{REPLY_TIMEOUT_S:.0f}",
            },
        ) from None
    finally:
        if reply is not None:
            reply.cancel()  # no-op once answered; forgets the request otherwise
    if not answer["ok"]:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_refused",
            translation_placeholders={
                "command": command,
                "node": node_id,
                "error": str(answer.get("error") or "no reason given"),
            },
        )
    return answer


def async_register_services(hass: HomeAssistant) -> None:
    async def reset_counters(call: ServiceCall) -> None:
        await async_send_command(hass, call.data[ATTR_DEVICE_ID], "reset_counters")

    async def request_snapshot(call: ServiceCall) -> None:
        await async_send_command(hass, call.data[ATTR_DEVICE_ID], "snapshot")

    async def reload_config(call: ServiceCall) -> None:
        await async_send_command(hass, call.data[ATTR_DEVICE_ID], "reload_config", wait=True)

    hass.services.async_register(DOMAIN, SERVICE_RESET_COUNTERS, reset_counters, SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_RELOAD_CONFIG, reload_config, SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REQUEST_SNAPSHOT, request_snapshot, SCHEMA)
