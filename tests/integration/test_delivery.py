"""End-to-end delivery: the node's own link and outbox on the real broker, a real Home Assistant.

Home Assistant's MQTT client has a clean session, so whatever the broker accepts while it is away
or re-subscribing never reaches it; these tests show the hub asks the node to replay what it
missed, so every event fires exactly once across a broker restart and a Home Assistant restart,
and that no stray or absurd event refires history or blocks what follows."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from homeassistant.core import Event, HomeAssistant, State
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.hub import EVENT_STOREFRONT
from edge_node.config import MqttConfig
from edge_node.link import Link
from edge_node.outbox import EventQueue
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import NodePublisher, wait_for
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]
STATE = EXAMPLES["state"]
CROSSING = EXAMPLES["event_crossing"]


class Node:
    """The node's real link and outbox; only the camera is left out: events come from `add`."""

    def __init__(self, port: int, path: Any) -> None:
        self.outbox = EventQueue(path)
        config = MqttConfig(host="127.0.0.1", port=port, reconnect_max_s=1)
        self.link = Link(config, "entrance", self.outbox, on_command=self._on_command)
        self.link.set_retained("description", DESCRIPTION)
        self.last_seq = 0
        self._publish_state()

    def _on_command(self, command: dict[str, Any]) -> None:
        if command["command"] == "replay":
            self.link.replay(command["args"])

    def _publish_state(self) -> None:
        state = {
            **STATE,
            "ts": time.time(),
            "last_seq": self.last_seq,
            "stream": self.outbox.stream,
            "replay_from": self.outbox.replay_from(),
        }
        self.link.set_retained("state", state)

    def add(self, count: int) -> None:
        for _ in range(count):
            event = self.outbox.append("crossing", {"line": "door", "direction": "in", "track": 1})
            self.last_seq = event.seq
        self.link.wake()
        self._publish_state()

    def stop(self) -> None:
        self.link.stop()
        self.outbox.close()


async def _produce(hass: HomeAssistant, node: Node, rounds: int) -> None:
    for _ in range(rounds):
        node.add(5)
        await asyncio.sleep(0.1)
        await hass.async_block_till_done()


def _fired_seqs(fired: list[Event]) -> list[int]:
    return sorted(e.data["seq"] for e in fired)


async def test_nothing_lost_across_a_broker_restart_and_a_home_assistant_restart(
    hass: HomeAssistant, store_entry: MockConfigEntry, mqtt_broker: Mosquitto, tmp_path: Any
) -> None:
    fired: list[Event] = []
    hass.bus.async_listen(EVENT_STOREFRONT, fired.append)
    node = Node(mqtt_broker.port, tmp_path / "node.db")
    node.link.start()
    # Home Assistant's MQTT client announces itself a moment after each connect; a broker that
    # goes away before that fails its pending birth message, so the test waits for it.
    births = Probe(mqtt_broker.port, topic="homeassistant/status", client_id="delivery-births")
    try:
        assert await hass.config_entries.async_setup(store_entry.entry_id)
        hub = store_entry.runtime_data.hub
        await wait_for(hass, lambda: "entrance" in hub.nodes)
        await _produce(hass, node, 10)
        await wait_for(hass, lambda: len(fired) == node.last_seq, within_s=30)

        # The broker dies while events keep coming; the node reconnects before HA re-subscribes.
        await wait_for(hass, lambda: births.last("homeassistant/status") == b"online", 30)
        births.messages.clear()
        mqtt_broker.kill()
        await _produce(hass, node, 20)
        mqtt_broker.start()
        await _produce(hass, node, 40)
        await wait_for(hass, lambda: len(set(_fired_seqs(fired))) == node.last_seq, within_s=60)
        await wait_for(hass, lambda: births.last("homeassistant/status") == b"online", 30)

        # Home Assistant restarts (the entry unloads and loads again) while the node goes on.
        assert await hass.config_entries.async_unload(store_entry.entry_id)
        await hass.async_block_till_done()
        node.add(30)  # accepted by the broker while nobody in HA listens
        await asyncio.sleep(0.5)
        assert await hass.config_entries.async_setup(store_entry.entry_id)
        await _produce(hass, node, 5)
        await wait_for(hass, lambda: len(set(_fired_seqs(fired))) == node.last_seq, within_s=60)
        await asyncio.sleep(0.5)
        await hass.async_block_till_done()
    finally:
        node.stop()
        births.close()
    assert _fired_seqs(fired) == list(range(1, node.last_seq + 1))  # each once, none lost
    assert store_entry.runtime_data.hub.replays_requested >= 1


async def test_stray_stream_and_absurd_seq_are_refused_and_block_nothing(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    fired: list[Event] = []
    hass.bus.async_listen(EVENT_STOREFRONT, fired.append)
    stream = "aaaa0000bbbb1111"
    node.publish("description", DESCRIPTION, retain=True)
    node.publish("state", {**STATE, "last_seq": 0, "stream": stream}, retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: "entrance" in hub.nodes and hub.nodes["entrance"].state)

    def crossing(seq: int, of: str = stream) -> dict[str, Any]:
        return {**CROSSING, "stream": of, "seq": seq, "track": seq}

    for seq in range(1, 21):
        node.publish("event/crossing", crossing(seq))
    await wait_for(hass, lambda: len(fired) == 20)

    # One contract-valid event of a stream the node never announced, then all 20 again.
    node.publish("event/crossing", crossing(21, "ffff9999eeee8888"))
    node.publish("event/crossing", crossing(10**15))  # far beyond the newest seq
    for seq in range(1, 21):
        node.publish("event/crossing", crossing(seq))
    node.publish("event/crossing", crossing(21))
    await wait_for(hass, lambda: len(fired) == 21)
    await wait_for(hass, lambda: hub.sequences.duplicates >= 20)
    assert _fired_seqs(fired) == list(range(1, 22))
    assert {e.data["stream"] for e in fired} == {stream}
    assert hub.sequences.refused == 2
    assert hub.rejects.total >= 2

    # A node restart with new storage is announced in its state; then seq 1 is news.
    node.publish("state", {**STATE, "last_seq": 0, "stream": "cccc2222dddd3333"}, retain=True)
    await wait_for(hass, lambda: hub.nodes["entrance"].state.get("stream") == "cccc2222dddd3333")
    node.publish("event/crossing", crossing(1, "cccc2222dddd3333"))
    await wait_for(hass, lambda: len(fired) == 22)


async def test_garbage_on_availability_is_unknown_not_offline(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher
) -> None:
    node.publish("description", DESCRIPTION, retain=True)
    node.publish("state", STATE, retain=True)
    node.publish("health", EXAMPLES["health"], retain=True)
    node.publish("availability", b"\xff\xfegarbage", retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: "entrance" in hub.nodes and hub.rejects.total >= 1)

    def node_sensors() -> list[State]:
        return [
            s
            for s in hass.states.async_all("sensor")
            if s.entity_id.startswith("sensor.entrance_camera")
        ]

    # The node's entities come with its description, which may be handled after the garbage.
    await wait_for(hass, lambda: hub.nodes["entrance"].online is None and bool(node_sensors()))
    assert [s.entity_id for s in node_sensors() if s.state == "unavailable"] == []
