"""Weight fusion with a real Home Assistant entity standing in for the shelf's scale (an
`input_number`): paired in the options, a weight drop the camera confirms is counted as
Δweight ÷ unit weight, a drop the camera does not see is flagged and not counted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.storefront.const import DOMAIN
from custom_components.storefront.weight import WeightFusion
from tests.integration.conftest import NodePublisher, wait_for
from tests.integration.test_device_triggers import _node_device
from tests.integration.test_entities import entity_id
from tests.integration.test_shelves import SHELF_EVENT, publish_until_heard

SCALE = "input_number.coffee_scale"
WEIGHED = "entrance_shelf_coffee_weighed"


async def _scale(hass: HomeAssistant, grams: float) -> None:
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": SCALE, "value": grams}, blocking=True
    )


async def _pair(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "shelf_scale"}
    )
    assert result["type"] is FlowResultType.FORM
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"shelf": "entrance/coffee", **fields}
    )


async def test_a_weight_drop_the_camera_confirms_is_counted_one_it_does_not_is_flagged(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    scale = {"min": 0, "max": 5000, "step": 1, "initial": 2000, "mode": "box"}
    assert await async_setup_component(
        hass, "input_number", {"input_number": {"coffee_scale": scale}}
    )
    await _node_device(hass, store_entry, node)

    refused = await _pair(hass, store_entry, entity_id=SCALE, unit_weight=0)
    assert refused["errors"] == {"unit_weight": "unit_weight_positive"}
    saved = await _pair(hass, store_entry, entity_id=SCALE, unit_weight=250, window_s=30)
    assert saved["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # the store reloads with the scale
    registry = er.async_get(hass)
    unique_id = f"{store_entry.entry_id}_{WEIGHED}"
    await wait_for(hass, lambda: registry.async_get_entity_id("sensor", DOMAIN, unique_id))
    sensor = entity_id(hass, store_entry, WEIGHED)
    await wait_for(hass, lambda: hass.states.get(sensor) is not None)

    # Two packs of 250 g lifted; the camera sees the take a few seconds later.
    await _scale(hass, 1500)
    assert hass.states.get(sensor).state == "0"  # type: ignore[union-attr]
    await publish_until_heard(hass, store_entry, node, {**SHELF_EVENT, "seq": 1})
    await wait_for(hass, lambda: hass.states.get(sensor).state == "2")  # type: ignore[union-attr]
    state = hass.states.get(sensor)
    assert state is not None
    assert (state.attributes["last_count"], state.attributes["last_weight_drop"]) == (2, 500.0)
    assert state.attributes["unconfirmed_drops"] == 0

    # Someone leans on the shelf: the weight drops, the camera sees nothing within the window.
    await _scale(hass, 1200)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    state = hass.states.get(sensor)
    assert state is not None
    assert state.state == "2"
    assert state.attributes["unconfirmed_drops"] == 1

    # A rise (restocking) and jitter under half a pack are no drops.
    await _scale(hass, 2000)
    await _scale(hass, 1900)
    state = hass.states.get(sensor)
    assert state is not None
    assert (state.state, state.attributes["unconfirmed_drops"]) == ("2", 1)

    # Leaving the sensor empty unpairs the shelf.
    await _pair(hass, store_entry)
    await hass.async_block_till_done()
    assert store_entry.options["shelf_scales"] == {}


def test_a_camera_take_before_the_drop_confirms_it_within_the_window_only() -> None:
    fusion = WeightFusion(unit_weight=100.0, window_s=10.0)
    fusion.weight(1000.0, 0.0)
    fusion.camera_taken(1.0)
    assert fusion.weight(900.0, 5.0) is None  # confirmed by the take 4 s earlier
    assert fusion.counted == 1
    fusion.camera_taken(6.0)
    drop = fusion.weight(800.0, 30.0)  # that take is 24 s old: outside the window
    assert drop is not None
    assert fusion.expire(drop)
    assert (fusion.counted, fusion.flagged) == (1, 1)
