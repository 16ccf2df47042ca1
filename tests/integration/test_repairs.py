"""Repair issues: a node offline longer than the owner's limit, and a contract version the
integration does not know; both clear themselves when the cause is gone."""

from __future__ import annotations

import copy
from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.storefront.const import CONF_OFFLINE_MINUTES, DOMAIN
from tests.integration.conftest import NodePublisher, wait_for
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]
STATE = EXAMPLES["state"]


async def test_node_offline_too_long_raises_and_clears_an_issue(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    hass.config_entries.async_update_entry(store_entry, options={CONF_OFFLINE_MINUTES: 5})
    node.publish("description", DESCRIPTION, retain=True)
    node.publish("availability", "offline", retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(
        hass, lambda: "entrance" in hub.nodes and hub.nodes["entrance"].description is not None
    )
    issue_id = f"node_offline_{store_entry.entry_id}_entrance"
    registry = ir.async_get(hass)

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=4))
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, issue_id) is None  # not yet: 5 minutes

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=6))
    await hass.async_block_till_done()
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"node": "Entrance camera", "minutes": "5"}

    node.publish("availability", "online", retain=True)
    await wait_for(hass, lambda: registry.async_get_issue(DOMAIN, issue_id) is None)


async def test_unknown_contract_version_raises_and_clears_an_issue(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.publish("description", DESCRIPTION, retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: "entrance" in hub.nodes)
    issue_id = f"contract_version_{store_entry.entry_id}_entrance"
    registry = ir.async_get(hass)

    future = copy.deepcopy(STATE)
    future["schema"] = 2
    node.publish("state", future)
    node.publish("state", future)
    await wait_for(hass, lambda: registry.async_get_issue(DOMAIN, issue_id) is not None)
    assert store_entry.runtime_data.hub.rejects.by_kind["state"] >= 1, (
        hub is store_entry.runtime_data.hub,
        hub.rejects.by_kind,
    )

    node.publish("state", STATE)  # the node was rolled back / the integration updated
    await wait_for(hass, lambda: registry.async_get_issue(DOMAIN, issue_id) is None)


async def test_changing_options_reloads_the_store(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    first = store_entry.runtime_data.hub
    hass.config_entries.async_update_entry(store_entry, options={CONF_OFFLINE_MINUTES: 30})
    await hass.async_block_till_done()
    assert store_entry.runtime_data.hub is not first
    assert store_entry.runtime_data.hub.offline.minutes == 30
