"""Config flow: one entry per store, keyed by its MQTT topic root."""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers.selector import TextSelector
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from . import contract
from .const import CONF_STORE_NAME, CONF_TOPIC_ROOT, DEFAULT_TOPIC_ROOT, DOMAIN, TOPIC_ROOT_PATTERN


def _schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(
                CONF_STORE_NAME, default=defaults.get(CONF_STORE_NAME, "")
            ): TextSelector(),
            vol.Required(
                CONF_TOPIC_ROOT, default=defaults.get(CONF_TOPIC_ROOT, DEFAULT_TOPIC_ROOT)
            ): TextSelector(),
        }
    )


class StorefrontConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a store by hand, or confirm one that a node announced over MQTT."""

    VERSION = 1

    def __init__(self) -> None:
        self._discovered_node: str | None = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_STORE_NAME].strip()
            root = user_input[CONF_TOPIC_ROOT].strip().strip("/")
            if not name:
                errors[CONF_STORE_NAME] = "store_name_empty"
            elif not re.fullmatch(TOPIC_ROOT_PATTERN, root):
                errors[CONF_TOPIC_ROOT] = "invalid_topic_root"
            else:
                await self.async_set_unique_id(root)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=name, data={CONF_STORE_NAME: name, CONF_TOPIC_ROOT: root}
                )
        return self.async_show_form(
            step_id="user", data_schema=_schema(user_input or {}), errors=errors
        )

    async def async_step_mqtt(self, discovery_info: MqttServiceInfo) -> ConfigFlowResult:
        """A node published its description on the default topic root."""
        try:
            description = contract.parse("description", discovery_info.payload)
        except contract.ContractError:
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(DEFAULT_TOPIC_ROOT)
        self._abort_if_unique_id_configured()
        self._discovered_node = str(description["name"])
        self.context["title_placeholders"] = {"node": self._discovered_node}
        return await self.async_step_mqtt_confirm()

    async def async_step_mqtt_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is not None:
            name = user_input[CONF_STORE_NAME].strip() or "Store"
            return self.async_create_entry(
                title=name, data={CONF_STORE_NAME: name, CONF_TOPIC_ROOT: DEFAULT_TOPIC_ROOT}
            )
        return self.async_show_form(
            step_id="mqtt_confirm",
            data_schema=vol.Schema(
                {vol.Required(CONF_STORE_NAME, default="Store"): TextSelector()}
            ),
            description_placeholders={"node": self._discovered_node or ""},
        )
