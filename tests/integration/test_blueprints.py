"""The blueprints load through Home Assistant's own blueprint schema, and an automation made
from each passes Home Assistant's automation validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml

FOLDER = Path(__file__).resolve().parents[2] / "blueprints" / "automation" / "storefront"

INPUTS: dict[str, dict[str, Any]] = {
    "shoppers_near_window_lights.yaml": {
        "zone_occupied": "binary_sensor.entrance_window_occupied",
        "lights": {"entity_id": "light.shop_window"},
    },
    "capacity_alert.yaml": {
        "over_capacity": "binary_sensor.entrance_over_capacity",
        "notify_service": "notify.notify",
    },
    "node_offline_notify.yaml": {"connectivity": "binary_sensor.entrance_connectivity"},
    "best_offer_for_window.yaml": {
        "recommended": "sensor.window_display_recommended_offer",
        "offer_select": "select.window_display_offer_on_screen",
        "min_people": 2,
    },
    "shelf_low_notify.yaml": {
        "low_stock": ["binary_sensor.entrance_coffee_shelf_low_stock"],
        "notify_service": "notify.notify",
    },
}


def test_every_blueprint_is_exercised() -> None:
    assert {p.name for p in FOLDER.glob("*.yaml")} == set(INPUTS)


@pytest.mark.parametrize("name", sorted(INPUTS))
async def test_blueprint_makes_a_valid_automation(hass: HomeAssistant, name: str) -> None:
    assert await async_setup_component(hass, "automation", {})
    data = await hass.async_add_executor_job(load_yaml, FOLDER / name)
    blueprint = Blueprint(data, expected_domain="automation", schema=BLUEPRINT_SCHEMA)
    assert blueprint.validate() is None
    use = {"use_blueprint": {"path": f"storefront/{name}", "input": INPUTS[name]}}
    inputs = BlueprintInputs(blueprint, use)
    inputs.validate()
    automation = {"id": name, "alias": name, **inputs.async_substitute()}
    validated = await async_validate_config_item(hass, name, automation)
    assert validated is not None
    assert validated.validation_status.value == "ok", validated.validation_error
