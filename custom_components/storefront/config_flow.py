"""Config flow: one entry per store, keyed by its MQTT topic root."""

from __future__ import annotations

import re
from typing import Any

import probatio
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from . import contract, influx
from .const import (
    CONF_EXPORT,
    CONF_OFFLINE_MINUTES,
    CONF_SHELF_SCALES,
    CONF_STORE_NAME,
    CONF_TOPIC_ROOT,
    DEFAULT_OFFLINE_MINUTES,
    DEFAULT_TOPIC_ROOT,
    DOMAIN,
    TOPIC_ROOT_PATTERN,
)
from .influx import API_V1, API_V2, InfluxTarget
from .offer_flow import SUBENTRY_OFFER, OfferSubentryFlow
from .weight import DEFAULT_WINDOW_S, SCALE_ENTITY, SCALE_UNIT_WEIGHT, SCALE_WINDOW_S, ShelfScale

SCALE_SHELF = "shelf"


def _schema(defaults: dict[str, Any]) -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(
                CONF_STORE_NAME, default=defaults.get(CONF_STORE_NAME, "")
            ): TextSelector(),
            probatio.Required(
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

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Offers are the store's catalogue, one subentry each."""
        return {SUBENTRY_OFFER: OfferSubentryFlow}

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
            data_schema=probatio.Schema(
                {probatio.Required(CONF_STORE_NAME, default="Store"): TextSelector()}
            ),
            description_placeholders={"node": self._discovered_node or ""},
        )


class StorefrontOptionsFlow(OptionsFlow):
    """What the owner may tune without re-adding the store: the offline alert, and the InfluxDB
    export (v1 or v2 API; the connection is tested before it is saved)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_show_menu(
            step_id="init",
            menu_options=["store", "shelf_scale", "influxdb_v1", "influxdb_v2", "export_off"],
        )

    def _save(self, **changes: Any) -> ConfigFlowResult:
        options = {**self.config_entry.options, **changes}
        return self.async_create_entry(data={k: v for k, v in options.items() if v is not None})

    async def async_step_store(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self._save(**{CONF_OFFLINE_MINUTES: int(user_input[CONF_OFFLINE_MINUTES])})
        current = self.config_entry.options.get(CONF_OFFLINE_MINUTES, DEFAULT_OFFLINE_MINUTES)
        return self.async_show_form(
            step_id="store",
            data_schema=probatio.Schema(
                {
                    probatio.Required(CONF_OFFLINE_MINUTES, default=current): NumberSelector(
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

    async def async_step_shelf_scale(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pair a shelf with a weight sensor; leaving the sensor empty unpairs the shelf."""
        shelves = self._shelves()
        if not shelves:
            return self.async_abort(reason="no_shelves")
        scales = dict(self.config_entry.options.get(CONF_SHELF_SCALES) or {})
        errors: dict[str, str] = {}
        if user_input is not None:
            key = user_input[SCALE_SHELF]
            entity_id = user_input.get(SCALE_ENTITY)
            if not entity_id:
                scales.pop(key, None)
                return self._save(**{CONF_SHELF_SCALES: scales})
            if float(user_input.get(SCALE_UNIT_WEIGHT) or 0) <= 0:
                errors[SCALE_UNIT_WEIGHT] = "unit_weight_positive"
            else:
                node_id, _, shelf_id = key.partition("/")
                scale = ShelfScale(
                    node_id,
                    shelf_id,
                    entity_id,
                    float(user_input[SCALE_UNIT_WEIGHT]),
                    float(user_input.get(SCALE_WINDOW_S, DEFAULT_WINDOW_S)),
                )
                return self._save(**{CONF_SHELF_SCALES: {**scales, key: scale.to_option()}})
        return self.async_show_form(
            step_id="shelf_scale",
            data_schema=self.add_suggested_values_to_schema(
                _scale_schema(shelves), user_input or {}
            ),
            errors=errors,
        )

    def _shelves(self) -> list[SelectOptionDict]:
        """The shelves of the store's nodes, as the nodes describe them now."""
        data = getattr(self.config_entry, "runtime_data", None)
        if data is None:
            return []
        return [
            SelectOptionDict(value=f"{node_id}/{shelf.id}", label=f"{node.info.name}: {shelf.name}")
            for node_id, node in sorted(data.hub.nodes.items())
            if node.info is not None
            for shelf in node.info.shelves
        ]

    async def async_step_influxdb_v1(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self._export_step("influxdb_v1", API_V1, user_input)

    async def async_step_influxdb_v2(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self._export_step("influxdb_v2", API_V2, user_input)

    async def async_step_export_off(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self._save(**{CONF_EXPORT: None})

    async def _export_step(
        self, step_id: str, api: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        current = self.config_entry.options.get(CONF_EXPORT) or {}
        defaults = current if current.get("api") == api else {}
        if user_input is not None:
            defaults = user_input
            options = {"api": api, **{k: v for k, v in user_input.items() if v not in ("", None)}}
            target = InfluxTarget.from_options(options)
            if not re.match(r"^https?://[^/\s]+", target.url):
                errors["url"] = "invalid_url"
            else:
                session = async_get_clientsession(self.hass, verify_ssl=target.verify_ssl)
                try:
                    await influx.check(session, target)
                except influx.InfluxError as err:
                    errors["base"] = err.reason
                    placeholders["error"] = str(err)
            if not errors:
                return self._save(**{CONF_EXPORT: options})
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(_export_schema(api), defaults),
            errors=errors,
            description_placeholders=placeholders,
        )


def _scale_schema(shelves: list[SelectOptionDict]) -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(SCALE_SHELF): SelectSelector(SelectSelectorConfig(options=shelves)),
            probatio.Optional(SCALE_ENTITY): EntitySelector(
                EntitySelectorConfig(domain=["sensor", "input_number"])
            ),
            probatio.Optional(SCALE_UNIT_WEIGHT, default=1.0): NumberSelector(
                NumberSelectorConfig(min=0, step="any", mode=NumberSelectorMode.BOX)
            ),
            probatio.Optional(SCALE_WINDOW_S, default=DEFAULT_WINDOW_S): NumberSelector(
                NumberSelectorConfig(
                    min=5, max=600, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
                )
            ),
        }
    )


def _export_schema(api: str) -> probatio.Schema:
    text = TextSelector()
    password = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
    fields: dict[Any, Any] = {
        probatio.Required("url"): TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
    }
    if api == API_V1:
        fields.update(
            {
                probatio.Required("database", default="storefront"): text,
                probatio.Optional("retention_policy"): text,
                probatio.Optional("username"): text,
                probatio.Optional("password"): password,
            }
        )
    else:
        fields.update(
            {
                probatio.Required("org"): text,
                probatio.Required("bucket", default="storefront"): text,
                probatio.Required("token"): password,
            }
        )
    fields[probatio.Required("verify_ssl", default=True)] = BooleanSelector()
    return probatio.Schema(fields)
