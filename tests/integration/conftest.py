"""Home Assistant test fixtures: the real MQTT integration connected to the session's mosquitto."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront import identifiers
from custom_components.storefront.const import CONF_STORE_NAME, CONF_TOPIC_ROOT, DOMAIN
from custom_components.storefront.hub import StoreHub
from storefront_dev.servers import Mosquitto
from tests.edge.node_process import NodeProcess, write_config
from tests.node_contract import example

ROOT = "storefront"


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: None) -> None:
    """Every test here loads custom_components/storefront."""


@pytest.fixture
def expected_lingering_timers() -> bool:
    # The MQTT client keeps housekeeping timers alive past a test's end.
    return True


@pytest.fixture
async def mqtt_broker(
    hass: HomeAssistant, mosquitto: Mosquitto, socket_enabled: None, mock_hass_config: None
) -> AsyncIterator[Mosquitto]:
    """Home Assistant's own MQTT integration, connected to the real mosquitto."""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={"broker": "127.0.0.1", "port": mosquitto.port, "discovery": True},
        version=mqtt.CONFIG_ENTRY_VERSION,
        minor_version=mqtt.CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert await mqtt.async_wait_for_mqtt_client(hass)
    yield mosquitto
    await hass.config_entries.async_unload(entry.entry_id)


def add_store_entry(hass: HomeAssistant, **extra: Any) -> MockConfigEntry:
    """The "Main Street" store on the test root, added to hass; `extra` for MockConfigEntry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main Street",
        unique_id=ROOT,
        data={CONF_STORE_NAME: "Main Street", CONF_TOPIC_ROOT: ROOT},
        **extra,
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def store_entry(hass: HomeAssistant) -> MockConfigEntry:
    return add_store_entry(hass)


def device_of(
    hass: HomeAssistant, entry: MockConfigEntry, node_id: str | None = None
) -> dr.DeviceEntry | None:
    """The store's hub device, or the device of one of its nodes. Looked up among the store's
    own devices: identifier lookups across config entries are deprecated."""
    wanted = (
        identifiers.store_device(entry.entry_id)
        if node_id is None
        else identifiers.node_device(entry.entry_id, node_id)
    )
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next((device for device in devices if wanted in device.identifiers), None)


class NodePublisher:
    """Plays a Storefront node on the real broker with a plain paho client."""

    def __init__(self, port: int, node_id: str = "entrance") -> None:
        self.node_id = node_id
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{node_id}")
        self.client.reconnect_delay_set(0.1, 0.5)  # back quickly after a broker restart
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish(self, suffix: str, payload: Any, *, retain: bool = False, qos: int = 1) -> None:
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        deadline = time.monotonic() + 10
        while not self.client.is_connected():  # e.g. while it reconnects after a broker restart
            if time.monotonic() > deadline:
                raise RuntimeError("the node publisher could not reconnect to the broker")
            time.sleep(0.05)
        info = self.client.publish(f"{ROOT}/{self.node_id}/{suffix}", body, qos=qos, retain=retain)
        info.wait_for_publish(5)

    def announce(
        self,
        description: Any = None,
        state: Any = None,
        health: Any = None,
    ) -> None:
        """What a node publishes as it connects: "online", its description (the contract's
        example unless given), and its state and health where given; all retained."""
        self.publish("availability", "online", retain=True)
        self.publish("description", description or example("description"), retain=True)
        for suffix, message in (("state", state), ("health", health)):
            if message is not None:
                self.publish(suffix, message, retain=True)

    def clear_retained(self, *suffixes: str) -> None:
        for suffix in suffixes:
            self.publish(suffix, b"", retain=True)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def node(mqtt_broker: Mosquitto) -> Iterator[NodePublisher]:
    publisher = NodePublisher(mqtt_broker.port)
    yield publisher
    publisher.clear_retained("availability", "description", "state", "health")
    publisher.close()


def entity_of(
    hass: HomeAssistant, entry: MockConfigEntry, key: str, domain: str = "sensor"
) -> str | None:
    """The id of one of the store's entities, by its key (its unique id after the entry's)."""
    return er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{entry.entry_id}_{key}")


def entity_state(
    hass: HomeAssistant, entry: MockConfigEntry, key: str, domain: str = "sensor"
) -> str:
    """What one of the store's entities shows now; "missing" while there is no such entity."""
    entity = entity_of(hass, entry, key, domain)
    state = hass.states.get(entity) if entity else None
    return state.state if state else "missing"


async def wait_for_value(
    hass: HomeAssistant, entry: MockConfigEntry, key: str, within_s: float
) -> str:
    """Let Home Assistant run until the sensor shows a value (bounded); return it."""
    no_value = ("missing", "unknown", "unavailable")
    await wait_for(hass, lambda: entity_state(hass, entry, key) not in no_value, within_s)
    return entity_state(hass, entry, key)


NodeStarter = Callable[[dict[str, Any]], NodeProcess]


@pytest.fixture
def start_node(mqtt_broker: Mosquitto, tmp_path: Path) -> Iterator[NodeStarter]:
    """Runs the real node (`python -m edge_node run`) on a configuration, reporting every 2 s;
    stops it and clears what it left retained on the session broker."""
    started: list[tuple[NodeProcess, str]] = []

    def start(config: dict[str, Any]) -> NodeProcess:
        path = write_config(tmp_path, mqtt_broker.port, config, health_interval_s=2)
        node = NodeProcess(path, tmp_path / "node.log")
        started.append((node, config["node_id"]))
        return node

    yield start
    for node, node_id in started:
        node.stop()
        for suffix in ("availability", "description", "state", "health"):
            topic = f"{ROOT}/{node_id}/{suffix}"
            port = str(mqtt_broker.port)
            subprocess.run(["mosquitto_pub", "-p", port, "-r", "-n", "-t", topic], check=True)


async def wait_for(
    hass: HomeAssistant, condition: Callable[[], bool], within_s: float = 10.0
) -> None:
    """Let Home Assistant run until `condition` holds (bounded)."""
    async with asyncio.timeout(within_s):
        while not condition():
            await asyncio.sleep(0.05)
            await hass.async_block_till_done()


async def publish_until(
    hass: HomeAssistant,
    node: NodePublisher,
    heard: Callable[[], object],
    *messages: tuple[str, Any],
    tries: int = 40,
) -> None:
    """Publish `messages` (suffix, payload) again and again until `heard()` holds, a bounded
    number of times: Home Assistant's subscriptions settle a moment after set-up."""
    for _ in range(tries):
        for suffix, payload in messages:
            node.publish(suffix, payload)
        await hass.async_block_till_done()
        if heard():
            return
        await hass.async_add_executor_job(time.sleep, 0.1)


async def set_up(
    hass: HomeAssistant, entry: MockConfigEntry, ready: Callable[[StoreHub], object]
) -> StoreHub:
    """Set the store up and let Home Assistant run until `ready(hub)` holds (bounded)."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    hub = entry.runtime_data.hub
    await wait_for(hass, lambda: bool(ready(hub)))
    return hub


def has_node(node_id: str = "entrance", *parts: str) -> Callable[[StoreHub], bool]:
    """The hub knows the node, and has its `parts` ("state", "health", ...) if any are named."""

    def ready(hub: StoreHub) -> bool:
        data = hub.nodes.get(node_id)
        return data is not None and all(getattr(data, part) is not None for part in parts)

    return ready


AsyncCallable = Callable[[], Coroutine[Any, Any, None]]
