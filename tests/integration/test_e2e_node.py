"""End to end: the real camera node on real footage publishes through the real mosquitto into
the real integration — entities appear, follow the node, and are right after a restart — and on
into a real influxd, where the analyst app's queries read the node's personas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.const import CONF_EXPORT, DOMAIN
from custom_components.storefront.models import NodeData
from storefront_dev.servers import Influxd
from streamlit_app import queries
from streamlit_app.config import Settings
from streamlit_app.influxql import InfluxClient
from tests.edge.conftest import write_clip
from tests.edge.node_process import NodeProcess, walkway
from tests.integration.conftest import (
    NodeStarter,
    device_of,
    entity_state,
    wait_for,
    wait_for_value,
)

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "e2e_node"
SHOPPER_PERSONAS = ("passer_by", "browser", "focused_buyer", "lingerer")


@pytest.fixture
def edge_node(start_node: NodeStarter, vtest_video: Path, tmp_path: Path) -> NodeProcess:
    clip = write_clip(vtest_video, tmp_path / "fast.avi", 0, 400, 40.0)
    return start_node(walkway(clip, node_id="walkway", name="Walkway camera", timezone="UTC"))


async def test_real_node_drives_the_entities(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    edge_node: NodeProcess,
    influxd: Influxd,
) -> None:
    await hass.async_add_executor_job(
        lambda: requests.post(
            f"{influxd.url}/query", params={"q": f"CREATE DATABASE {DATABASE}"}, timeout=10
        )
    )
    export = {"api": "v1", "url": influxd.url, "database": DATABASE}
    hass.config_entries.async_update_entry(store_entry, options={CONF_EXPORT: export})
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(
        hass, lambda: "walkway" in hub.nodes and hub.nodes["walkway"].state is not None, within_s=60
    )

    # People in view moves with the footage, and a crossing is counted.
    seen: set[str] = set()

    def crossed_and_varied() -> bool:
        seen.add(entity_state(hass, store_entry, "walkway_people"))
        crossings = sum(
            int(entity_state(hass, store_entry, f"walkway_line_door_{d}")) for d in ("in", "out")
        )
        return len(seen - {"missing", "unavailable"}) >= 2 and crossings >= 1

    await wait_for(hass, crossed_and_varied, within_s=180)  # generous: a loaded machine is slow

    # Finished visits reach the hub with behavioural personas (docs/personas.md).
    def personas_counted() -> int:
        state = hub.nodes["walkway"].state or {}
        return sum(state["counters"].get("personas", {}).values()) if state else 0

    await wait_for(hass, lambda: personas_counted() >= 1, within_s=90)

    # ... and the owner's persona sensors show them: today's counts add up to the node's.
    def persona_sensors_agree() -> bool:
        shown = [
            entity_state(hass, store_entry, f"walkway_persona_{p}_today") for p in SHOPPER_PERSONAS
        ]
        return all(v.isdigit() for v in shown) and sum(map(int, shown)) == personas_counted()

    await wait_for(hass, persona_sensors_agree, within_s=30)
    assert int(entity_state(hass, store_entry, "walkway_units_today")) >= 1
    assert entity_state(hass, store_entry, "walkway_staff_now").isdigit()
    assert entity_state(hass, store_entry, "walkway_persona_now") in ("none", *SHOPPER_PERSONAS)
    assert entity_state(hass, store_entry, "walkway_zone_path_persona_now") in (
        "none",
        *SHOPPER_PERSONAS,
    )

    # The export has the node's finished visits with their personas; the analyst app reads them.
    export_writer = store_entry.runtime_data.hub.export
    assert export_writer is not None
    await export_writer.writer.flush()
    client = InfluxClient(Settings(url=influxd.url, database=DATABASE))
    window = queries.base.Window(
        datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=1)
    )
    found = await hass.async_add_executor_job(
        queries.personas.load, client, queries.base.Scope(), window, window.end
    )
    assert found.mix["visits"].sum() >= 1
    assert set(found.mix["persona"]) <= set(SHOPPER_PERSONAS)
    assert found.mix["simulated"].sum() == 0
    assert not found.daily.empty
    assert entity_state(hass, store_entry, "walkway_connectivity", "binary_sensor") == "on"
    await wait_for(
        hass, lambda: entity_state(hass, store_entry, "walkway_camera") == "ok", within_s=30
    )

    # Home Assistant restarts: the counts come back as the node has them, not zero.
    before = hub.nodes["walkway"].state
    assert before is not None
    door_in = before["counters"]["lines"]["door"]["in"]
    assert await hass.config_entries.async_unload(store_entry.entry_id)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    door_in_now = await wait_for_value(hass, store_entry, "walkway_line_door_in", within_s=30)
    assert int(door_in_now) >= door_in


async def test_reload_config_from_home_assistant(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    edge_node: NodeProcess,
    tmp_path: Path,
) -> None:
    """The owner edits the node's zones and reloads from Home Assistant; a broken file is
    refused with the node's reason, and the node keeps counting with what it had."""
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: (hub.nodes.get("walkway") or NodeData("")).online, within_s=60)
    # Availability may arrive before the description that makes the device.
    await wait_for(hass, lambda: device_of(hass, store_entry, "walkway") is not None, within_s=60)
    device = device_of(hass, store_entry, "walkway")
    assert device is not None
    path = tmp_path / "node.yaml"
    config = yaml.safe_load(path.read_text())

    config["zones"].append(
        {"id": "bench", "name": "Bench", "polygon": [[0, 0], [0.3, 0], [0.3, 0.2], [0, 0.2]]}
    )
    path.write_text(yaml.safe_dump(config))
    await hass.services.async_call(DOMAIN, "reload_config", {"device_id": device.id}, blocking=True)

    def zones() -> list[str]:
        description = hub.nodes["walkway"].description or {}
        return [zone["id"] for zone in description.get("zones", [])]

    await wait_for(hass, lambda: zones() == ["path", "bench"], within_s=30)
    # The new zone's entities appear without reloading the integration.
    await wait_for(
        hass, lambda: entity_state(hass, store_entry, "walkway_zone_bench_people") != "missing"
    )
    assert (
        entity_state(hass, store_entry, "walkway_zone_bench_occupied", "binary_sensor") != "missing"
    )

    config["zones"][1]["polygon"] = [[0, 0], [0.3, 0]]
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN, "reload_config", {"device_id": device.id}, blocking=True
        )
    assert caught.value.translation_key == "command_refused"
    assert "zones[1] 'bench'.polygon" in str(caught.value.translation_placeholders)
    assert edge_node.process.poll() is None
    assert zones() == ["path", "bench"]

    # The zone goes again: its entities leave the registry; the other zone's stay.
    del config["zones"][1]
    path.write_text(yaml.safe_dump(config))
    await hass.services.async_call(DOMAIN, "reload_config", {"device_id": device.id}, blocking=True)
    await wait_for(
        hass, lambda: entity_state(hass, store_entry, "walkway_zone_bench_people") == "missing"
    )
    assert (
        entity_state(hass, store_entry, "walkway_zone_bench_occupied", "binary_sensor") == "missing"
    )
    assert entity_state(hass, store_entry, "walkway_zone_path_people") != "missing"
