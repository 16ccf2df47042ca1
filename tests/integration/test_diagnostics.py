"""Diagnostics from a store with a real node's retained data: complete, and redacted."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.diagnostics import async_get_config_entry_diagnostics
from tests.integration.conftest import NodePublisher, has_node, set_up
from tests.node_contract import EXAMPLES


async def test_diagnostics_show_nodes_and_rejections_but_not_the_shop(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.announce(EXAMPLES["description"], EXAMPLES["state"], b"{broken")
    ready = has_node("entrance", "state")
    await set_up(hass, store_entry, lambda hub: ready(hub) and hub.rejects.total == 1)

    diagnostics = await async_get_config_entry_diagnostics(hass, store_entry)
    assert diagnostics["topic_root"] == "storefront"
    assert diagnostics["entry"]["title"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["store_name"] == "**REDACTED**"
    node = diagnostics["nodes"]["entrance"]
    assert node["online"] is True
    assert node["description"]["hw_version"] == "**REDACTED**"
    assert node["description"]["zones"][0]["id"] == "window"
    assert node["state"]["occupancy"]["total"] == 3
    assert diagnostics["rejected"]["total"] == 1
    assert diagnostics["rejected"]["by_kind"] == {"health": 1}
    assert "not valid JSON" in diagnostics["rejected"]["last_error"]
    assert "Main Street" not in str(diagnostics)
    # The displays' state and what the policy learnt, without the secret of the screen URLs.
    offers = diagnostics["offers"]
    assert offers["displays"]["entrance/window_display"]["auto"] is True
    assert offers["policy"]["counts"] == []
    assert store_entry.runtime_data.offers.secret not in str(diagnostics)
