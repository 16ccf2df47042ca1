"""Every message the real node and the store simulator send, checked against contract.json.

The real node runs on real footage against a real mosquitto; the simulator runs live on the
node's own outbox and link against the same broker. Both answer a command. Every message goes
through the integration's validator, and where both sides send the same kind of message they
carry the same fields, apart from the few listed below: a field added to one side only fails.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_node.config import MqttConfig
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from storefront_dev.simulator import LiveSimulation, parse_start
from storefront_dev.synthetic import Store
from tests.edge.node_process import NodeProcess, reply, walkway, write_config
from tests.node_contract import contract

# Fields only one side has, and why; anything else must be on both sides or on neither.
ONLY_SIMULATED = {
    "description": {"synthetic"},  # a real node is never synthetic
    "health": {"cpu_percent"},  # made up by the simulator; a real node reports no CPU load yet
    "state": {"stock"},  # simulated shops have shelves; the real node watches none yet
    "event_visit": {"cart"},  # carts come from shelves
}
ONLY_REAL: dict[str, set[str]] = {}
Kinds = dict[str, list[dict[str, Any]]]


def _collect(probe: Probe, node_id: str) -> Kinds:
    """Messages of one node by kind (availability as text), each validated by the contract."""
    found: Kinds = defaultdict(list)
    for topic, payload, _retained in list(probe.messages):
        _root, node, rest = topic.split("/", 2)
        if node != node_id or rest == "command" or not payload:
            continue
        kind = rest.replace("/", "_")
        parsed = contract.parse(kind, payload)
        found[kind].append(parsed if isinstance(parsed, dict) else {"value": parsed})
    return found


@pytest.fixture
def probe_on() -> Iterator[Any]:
    opened: list[Probe] = []

    def open_probe(port: int, topic: str) -> Probe:
        probe = Probe(port, topic=topic, client_id=f"probe-{uuid.uuid4().hex[:6]}")
        assert probe.subscribed.wait(10)
        opened.append(probe)
        return probe

    yield open_probe
    for probe in opened:
        probe.close()


def _real_node(broker: Mosquitto, video: Path, tmp_path: Path, probe_on: Any) -> Kinds:
    probe = probe_on(broker.port, "storefront/#")
    display = {"id": "window", "name": "Window", "polygon": [[0, 0], [0.3, 0], [0.3, 0.3]]}
    config = write_config(tmp_path, broker.port, walkway(video, displays=[display]))
    node = NodeProcess(config, tmp_path / "node.log")
    try:
        probe.wait(lambda: len(probe.seqs()) >= 3, within_s=90)
        for event in ("crossing", "visit"):  # the footage loops: both come, in time
            probe.wait(lambda e=event: probe.last(f"cam1/event/{e}") is not None, within_s=120)
        probe.wait(lambda: probe.last("cam1/health") is not None, within_s=30)
        reply(probe, "snap1", "snapshot")
        probe.wait(lambda: probe.last("cam1/snapshot") is not None)
        reply(probe, "reset1", "reset_counters")
    finally:
        assert node.stop() == 0
    probe.wait(lambda: probe.last("cam1/availability") == b"offline")
    return _collect(probe, "cam1")


def _simulated_node(broker: Mosquitto, probe_on: Any) -> Kinds:
    root = f"simmsg-{uuid.uuid4().hex[:8]}"
    probe = probe_on(broker.port, f"{root}/#")
    # A cafe (node 2: shelves and a display) at Saturday lunchtime, 300 times real time.
    mqtt = MqttConfig(host="127.0.0.1", port=broker.port, topic_root=root)
    simulation = LiveSimulation(Store(nodes=2, seed=3), mqtt)
    stop = threading.Event()
    start = parse_start("2026-03-28T12:00", "Europe/Berlin")
    worker = threading.Thread(
        target=simulation.run, kwargs={"speed": 300, "start_ts": start, "stop": stop}
    )
    worker.start()
    try:
        probe.wait(lambda: probe.last("sim-2/availability") == b"online", within_s=30)
        kinds = ("crossing", "visit", "shelf", "impression")

        def all_events() -> bool:
            seen = {json.loads(p)["type"] for t, p, _ in list(probe.messages) if "/event/" in t}
            return seen >= set(kinds)

        probe.wait(all_events, within_s=60)
        reply(probe, "reset1", "reset_counters", node="sim-2", root=root)
    finally:
        stop.set()
        worker.join(30)
    probe.wait(lambda: probe.last("sim-2/availability") == b"offline")
    return _collect(probe, "sim-2")


def test_node_and_simulator_send_the_same_messages_by_the_contract(
    broker: Mosquitto, fast_vtest: Path, tmp_path: Path, probe_on: Any
) -> None:
    real = _real_node(broker, fast_vtest, tmp_path, probe_on)
    simulated = _simulated_node(broker, probe_on)

    for kind in ("availability", "description", "state", "health", "event_crossing", "reply"):
        assert real[kind], f"the real node sent no {kind}"
    assert real["snapshot"]
    for kind in ("description", "state", "health", "reply", *(f"event_{k}" for k in (
        "crossing", "visit", "shelf", "impression"))):  # fmt: skip
        assert simulated[kind], f"the simulator sent no {kind}"

    for kind in set(real) & set(simulated):
        if kind == "availability":
            continue
        real_fields = set().union(*(m.keys() for m in real[kind]))
        sim_fields = set().union(*(m.keys() for m in simulated[kind]))
        assert sim_fields - real_fields == ONLY_SIMULATED.get(kind, set()), kind
        assert real_fields - sim_fields == ONLY_REAL.get(kind, set()), kind
