"""Events from a node through the real broker: each fires once, replays never count twice —
not after a reconnect, not after a Home Assistant restart — and a new stream starts afresh."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.hub import EVENT_STOREFRONT, StoreHub
from tests.integration.conftest import (
    NodePublisher,
    device_of,
    has_node,
    publish_until,
    set_up,
    wait_for,
)
from tests.node_contract import EXAMPLES, example

CROSSING = EXAMPLES["event_crossing"]
VISIT = EXAMPLES["event_visit"]


def crossing(seq: int, stream: str = "aaaa0000bbbb1111", **extra: Any) -> dict[str, Any]:
    return {**CROSSING, "stream": stream, "seq": seq, "track": seq, **extra}


@pytest.fixture
async def fired(hass: HomeAssistant) -> list[Event]:
    """Every Storefront event Home Assistant fires in the test."""
    events: list[Event] = []
    hass.bus.async_listen(EVENT_STOREFRONT, events.append)
    return events


@pytest.fixture
async def hub(hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher) -> StoreHub:
    """The store, set up with the example node described."""
    node.publish("description", example("description"), retain=True)
    return await set_up(hass, store_entry, has_node())


async def test_each_event_fires_once_and_replays_are_dropped(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    fired: list[Event],
    hub: StoreHub,
) -> None:
    heard: list[tuple[str, int]] = []
    hub.async_add_event_listener(lambda node_id, event: heard.append((node_id, event["seq"])))

    await publish_until(hass, node, lambda: heard, ("event/crossing", crossing(1)))
    for seq in (2, 3):
        node.publish("event/crossing", crossing(seq))
    node.publish("event/visit", {**VISIT, "stream": "aaaa0000bbbb1111", "seq": 4})
    for seq in (2, 3, 1):  # a reconnect resends what was not acknowledged
        node.publish("event/crossing", crossing(seq))
    node.publish("event/crossing", crossing(5))
    await wait_for(hass, lambda: {s for _, s in heard} >= {1, 2, 3, 4, 5})
    await wait_for(hass, lambda: hub.sequences.duplicates >= 3)  # the replays were processed

    # Once each (topics may interleave: the visit travels on its own topic).
    assert sorted(heard) == [("entrance", s) for s in (1, 2, 3, 4, 5)]
    by_seq = {e.data["seq"]: e.data for e in fired}
    assert len(fired) == 5
    assert sorted(by_seq) == [1, 2, 3, 4, 5]
    assert by_seq[1]["node_id"] == "entrance"
    assert by_seq[1]["direction"] == "in"
    assert by_seq[4]["type"] == "visit"
    assert hub.sequences.duplicates >= 3

    # Home Assistant restarts: what was seen is remembered.
    assert await hass.config_entries.async_unload(store_entry.entry_id)
    hub = await set_up(hass, store_entry, has_node())
    again: list[int] = []
    hub.async_add_event_listener(lambda _n, event: again.append(event["seq"]))
    # Replays of old events are dropped; a new one arrives.
    replayed, new = ("event/crossing", crossing(3)), ("event/crossing", crossing(6))
    await publish_until(hass, node, lambda: again, replayed, new, tries=20)
    await wait_for(hass, lambda: 6 in again)
    assert set(again) == {6}

    # A node with fresh storage starts a new stream at seq 1: that is news, not a replay.
    node.publish("event/crossing", crossing(1, stream="cccc2222dddd3333"))
    await wait_for(hass, lambda: 1 in again)
    book = store_entry.runtime_data.hub.sequences.as_dict()["entrance"]
    assert (book["stream"], book["high"]) == ("cccc2222dddd3333", 1)


async def test_malformed_event_is_refused_and_fires_nothing(
    hass: HomeAssistant, node: NodePublisher, fired: list[Event], hub: StoreHub
) -> None:
    sideways = ("event/crossing", crossing(1, direction="sideways"))
    await publish_until(hass, node, lambda: hub.rejects.total, sideways)
    assert hub.rejects.by_kind["event_crossing"] >= 1
    assert fired == []


async def test_crossing_event_entity_and_device_removal(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher, hass_ws_client: Any
) -> None:
    from homeassistant.helpers import entity_registry as er
    from homeassistant.setup import async_setup_component

    from custom_components.storefront.const import DOMAIN

    assert await async_setup_component(hass, "config", {})
    node.announce()
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    registry = er.async_get(hass)
    key = f"{store_entry.entry_id}_entrance_line_door_crossing"
    await wait_for(hass, lambda: registry.async_get_entity_id("event", DOMAIN, key) is not None)
    entity_id = registry.async_get_entity_id("event", DOMAIN, key)
    assert entity_id is not None
    await publish_until(
        hass,
        node,
        lambda: hass.states.get(entity_id).attributes.get("event_type"),  # type: ignore[union-attr]
        ("event/crossing", crossing(1, stream="eeee0000ffff1111")),
    )
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["event_type"] == "in"
    assert state.attributes["track"] == 1

    # The owner cannot delete a node that is online; once it is offline, they can, and its
    # retained topics are cleared so it does not come back.
    device = device_of(hass, store_entry, "entrance")
    assert device is not None
    client = await hass_ws_client(hass)
    remove = {"type": "config/device_registry/remove", "device_id": device.id}
    await client.send_json_auto_id(remove)
    assert (await client.receive_json())["success"] is False
    node.publish("availability", "offline", retain=True)
    await wait_for(hass, lambda: not hub.nodes["entrance"].online)
    await client.send_json_auto_id(remove)
    assert (await client.receive_json())["success"] is True
    await wait_for(hass, lambda: "entrance" not in hub.nodes)
