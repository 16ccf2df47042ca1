"""Config flow: one entry per store, keyed by its MQTT topic root."""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from . import contract
from .const import (
    CONF_OFFLINE_MINUTES,
    CONF_STORE_NAME,
    CONF_TOPIC_ROOT,
    DEFAULT_OFFLINE_MINUTES,
    DEFAULT_TOPIC_ROOT,
    DOMAIN,
    TOPIC_ROOT_PATTERN,
)


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


def _check(user_input: dict[str, Any]) -> tuple[dict[str, str], str, str]:
    """Clean the store form's input; errors keyed by field, as the form shows them."""
    name = user_input[CONF_STORE_NAME].strip()
    root = user_input[CONF_TOPIC_ROOT].strip().strip("/")
    errors: dict[str, str] = {}
    if not name:
        errors[CONF_STORE_NAME] = "store_name_empty"
    elif not re.fullmatch(TOPIC_ROOT_PATTERN, root):
        errors[CONF_TOPIC_ROOT] = "invalid_topic_root"
    return errors, name, root


class StorefrontConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a store by hand, or confirm one that a node announced over MQTT."""

    VERSION = 1

    def __init__(self) -> None:
        self._discovered_node: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> StorefrontOptionsFlow:
        return StorefrontOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, name, root = _check(user_input)
            if not errors:
                await self.async_set_unique_id(root)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=name, data={CONF_STORE_NAME: name, CONF_TOPIC_ROOT: root}
                )
        return self.async_show_form(
            step_id="user", data_schema=_schema(user_input or {}), errors=errors
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename the store or move it to another topic root."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, name, root = _check(user_input)
            if not errors:
                await self.async_set_unique_id(root)
                if root != entry.unique_id:
                    self._abort_if_unique_id_configured()
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=root,
                    title=name,
                    data_updates={CONF_STORE_NAME: name, CONF_TOPIC_ROOT: root},
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_schema(user_input or dict(entry.data)),
            errors=errors,
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


class StorefrontOptionsFlow(OptionsFlow):
    """What the owner may tune without re-adding the store."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(
                data={CONF_OFFLINE_MINUTES: int(user_input[CONF_OFFLINE_MINUTES])}
            )
        current = self.config_entry.options.get(CONF_OFFLINE_MINUTES, DEFAULT_OFFLINE_MINUTES)
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_OFFLINE_MINUTES, default=current): NumberSelector(
                        NumberSelectorConfig(
                            min=1,
                            max=1440,
                            step=1,
                            mode=NumberSelectorMode.BOX,
                            unit_of_measurement="min",
                        )
                    ),
                }
            ),
        )
