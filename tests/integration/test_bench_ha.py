"""Benchmark (not part of `make test`): how much a store absorbs from a real broker.

Run with `make bench-ha` (= pytest tests/integration/test_bench_ha.py -m bench -s). Prints JSON:
- absorb_msgs_per_s: state messages from 20 nodes published as fast as one client can, counted
  until every one has been processed by the integration (validated, entities written);
- latency_ms p50/p95: 200 messages/s in total from 20 nodes for 20 s; for each message the time
  from publish to the Home Assistant state change of that node's "visitors today" sensor.
"""

from __future__ import annotations

import asyncio
import copy
import json
import statistics
import time
from typing import Any

import paho.mqtt.client as paho
import pytest
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.const import DOMAIN
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import wait_for
from tests.node_contract import EXAMPLES

pytestmark = pytest.mark.bench
NODES = [f"bench{i:02d}" for i in range(20)]
DESCRIPTION = EXAMPLES["description"]
STATE = EXAMPLES["state"]


def _state(visits: int) -> bytes:
    state = copy.deepcopy(STATE)
    state["counters"]["visits"] = visits
    state["ts"] = time.time()
    return json.dumps(state).encode()


def _client(port: int) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-nodes")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


async def test_ingest_benchmark(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    mqtt_broker: Mosquitto,
) -> None:
    client = _client(mqtt_broker.port)
    for node in NODES:
        client.publish(f"storefront/{node}/availability", "online", qos=1, retain=True)
        client.publish(
            f"storefront/{node}/description",
            json.dumps({**DESCRIPTION, "node_id": node, "name": node}),
            qos=1,
            retain=True,
        )
        client.publish(f"storefront/{node}/state", _state(0), qos=1, retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    registry = er.async_get(hass)

    def sensor(node: str) -> str | None:
        return registry.async_get_entity_id(
            "sensor", DOMAIN, f"{store_entry.entry_id}_{node}_visitors_today"
        )

    await wait_for(hass, lambda: all(sensor(n) for n in NODES), within_s=60)
    entity_to_node = {sensor(n): n for n in NODES}
    processed = {"count": 0}
    original = hub._on_message

    @callback
    def counting(message: Any) -> None:
        original(message)
        processed["count"] += 1

    hub._on_message = counting  # type: ignore[method-assign]
    # The subscription holds the bound method: resubscribe through the hub's own start.
    await hub.async_shutdown()
    await hub.async_start()
    await asyncio.sleep(2)  # Home Assistant batches new subscriptions for a moment
    await hass.async_block_till_done()

    # Absorb: as fast as the publisher can.
    total = 4000
    start_count = processed["count"]
    started = time.perf_counter()

    def flood() -> None:
        for i in range(total):
            client.publish(f"storefront/{NODES[i % 20]}/state", _state(1000 + i), qos=1)

    await hass.async_add_executor_job(flood)
    published = total / (time.perf_counter() - started)
    await wait_for(hass, lambda: processed["count"] - start_count >= total, within_s=120)
    absorb = total / (time.perf_counter() - started)

    # Latency at 200 messages/s from 20 nodes.
    sent: dict[tuple[str, int], float] = {}
    latencies: list[float] = []

    def on_change(event: Event[EventStateChangedData]) -> None:
        node = entity_to_node.get(event.data["entity_id"])
        new = event.data["new_state"]
        if node is None or new is None:
            return
        key = (node, int(float(new.state)))
        if key in sent:
            latencies.append((time.time() - sent.pop(key)) * 1000)

    unsubscribe = hass.bus.async_listen("state_changed", on_change)

    def paced(seconds: float = 20.0, rate: float = 200.0) -> None:
        begin = time.perf_counter()
        i = 0
        while (elapsed := time.perf_counter() - begin) < seconds:
            if i < elapsed * rate:
                node = NODES[i % 20]
                visits = 100000 + i
                sent[(node, visits)] = time.time()
                client.publish(f"storefront/{node}/state", _state(visits), qos=1)
                i += 1
            else:
                time.sleep(0.0005)

    await hass.async_add_executor_job(paced)
    await wait_for(hass, lambda: not sent, within_s=30)
    unsubscribe()
    client.loop_stop()
    client.disconnect()
    ordered = sorted(latencies)
    print(
        json.dumps(
            {
                "nodes": len(NODES),
                "absorb_msgs_per_s": round(absorb),
                "publisher_msgs_per_s": round(published),
                "rate_msgs_per_s": 200,
                "latency_ms": {
                    "messages": len(ordered),
                    "p50": round(statistics.median(ordered), 2),
                    "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
                },
            },
            indent=2,
        )
    )
