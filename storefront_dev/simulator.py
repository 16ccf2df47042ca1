"""The store simulator: synthetic nodes publishing live to a broker on the node's own stack.

A simulated node is a camera node without a camera: the traffic comes from the synthetic
generator (`synthetic.py`), and everything after that is the node's own code, its daily
counters, its messages, its event outbox (`EventQueue`) and its MQTT link (`Link`): retained
availability with a Last Will, retained description, state and health, QoS 1 events resent
after a reconnect, commands parsed by the contract. `LiveSimulation(store, host, port).run()`
publishes in real time or faster (`storefront-edge simulate`).
"""

from __future__ import annotations

import datetime as dt
import heapq
import tempfile
import threading
import time
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from edge_node import messages
from edge_node.config import MqttConfig
from edge_node.link import Link
from edge_node.outbox import EventQueue

from .synthetic import NodeRun, Schedule, Store

# --- live mode: publish to a broker ----------------------------------------------------------


class BrokerError(RuntimeError):
    """The broker cannot be reached or refused a simulated node."""


def parse_start(text: str | None, timezone: str) -> float:
    """`--start`: an ISO date or date-time in the nodes' timezone (None: now)."""
    if not text:
        return time.time()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--start: {text!r} is not an ISO date or date-time (e.g. 2026-03-06T11:30)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.timestamp()


class _SimulatedNode:
    """One simulated node's publishing stack: the node's own outbox and MQTT link.

    Events go into a real `EventQueue` (its clock is the simulated time of the event) and the
    link drains it with QoS 1 and resends after reconnects, exactly as on a camera node; the
    retained description, state and health go through `Link.set_retained`.
    """

    def __init__(self, sim: LiveSimulation, run: NodeRun, workdir: Path) -> None:
        node_id = run.node.node_id
        self.node_id = node_id
        self.run = run
        self.sim = sim
        self._event_ts = 0.0
        self.outbox = EventQueue(workdir / f"{node_id}.db", clock=lambda: self._event_ts)
        self.link = Link(sim.mqtt, node_id, self.outbox, on_command=self._on_command)

    def _on_command(self, command: dict[str, Any]) -> None:
        # Replays come from the node's own link and replay log, as on a camera node; the rest
        # (snapshots, layouts, ...) needs a camera.
        if command["command"] == "replay":
            error = self.link.replay(command.get("args") or {})
        else:
            error = "a simulated node does not carry out commands"
        reply = messages.reply(command["id"], command["command"], error, self.sim.sim_now())
        self.link.publish("reply", reply)

    def publish(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "state":
            # The outbox numbers the events: its stream and replay log are what the state names.
            message = message | {
                "stream": self.outbox.stream,
                "replay_from": self.outbox.replay_from(),
            }
        if kind != "happening":
            self.link.set_retained(kind, message)
            return
        counters = self.run.counters

        def counters_with(seq: int) -> dict[str, Any]:
            counters.last_seq = seq
            return counters.to_storage()

        self._event_ts = message["ts"]
        self.outbox.append(message["type"], message["fields"], counters=counters_with)
        self.link.wake()

    def drained(self) -> bool:
        return self.outbox.stats().depth == 0 or not self.link.connected

    def stop(self) -> None:
        """An orderly goodbye (retained 'offline' from the link), then close the outbox."""
        self.link.stop()
        self.outbox.close()


class LiveSimulation:
    """Publishes a `Store` to a broker as its nodes would, in real time or `speed` times faster.

    With `speed` above 1 the simulated clock runs ahead of the wall clock: message timestamps
    are in the future. Each node's events wait in an outbox of its own (a temporary
    directory, gone after the run) while the broker is away.
    """

    def __init__(self, store: Store, mqtt: MqttConfig) -> None:
        self.store = store
        self.mqtt = mqtt  # the broker, credentials and topic root, as a node's config has them
        self._sim0 = time.time()
        self._wall0 = time.monotonic()
        self._speed = 1.0

    def sim_now(self) -> float:
        return self._sim0 + (time.monotonic() - self._wall0) * self._speed

    def run(
        self,
        *,
        speed: float = 1.0,
        start_ts: float | None = None,
        seconds: float | None = None,
        stop: threading.Event | None = None,
        connect_timeout_s: float = 15.0,
    ) -> dict[str, int]:
        """Publish until `seconds` of wall-clock time have passed or `stop` is set.

        Returns how many messages of each kind were published.
        """
        if speed <= 0:
            raise ValueError(f"speed: {speed} must be positive")
        stop = stop or threading.Event()
        start = time.time() if start_ts is None else start_ts
        end = None if not seconds else start + seconds * speed
        # Health and on-change state no more often than every few real seconds.
        schedule = Schedule(60.0, max(30.0, 5.0 * speed), max(1.0, 0.5 * speed))
        runs = self.store.runs(start, end, schedule, numbered=False)
        with tempfile.TemporaryDirectory(prefix="storefront-sim-") as workdir:
            nodes = {run.node.node_id: _SimulatedNode(self, run, Path(workdir)) for run in runs}
            try:
                self._connect(list(nodes.values()), connect_timeout_s, stop)
                self._sim0, self._wall0, self._speed = start, time.monotonic(), speed
                counts = self._publish(runs, nodes, start, speed, stop)
                _wait(lambda: all(n.drained() for n in nodes.values()), 5.0, stop)
            finally:
                for node in nodes.values():
                    node.stop()
        return counts

    def _publish(
        self,
        runs: list[NodeRun],
        nodes: dict[str, _SimulatedNode],
        start: float,
        speed: float,
        stop: threading.Event,
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        merged = heapq.merge(*(run.messages() for run in runs), key=itemgetter(0))
        for _ts, node_id, kind, message in merged:
            delay = self._wall0 + (message["ts"] - start) / speed - time.monotonic()
            if (delay > 0 and stop.wait(delay)) or stop.is_set():
                break
            nodes[node_id].publish(kind, message)
            published = "event" if kind == "happening" else kind
            counts[published] = counts.get(published, 0) + 1
        return counts

    def _connect(
        self, nodes: list[_SimulatedNode], timeout_s: float, stop: threading.Event
    ) -> None:
        for node in nodes:
            node.link.start()
        deadline = time.monotonic() + timeout_s
        for node in nodes:
            while not node.link.connected and not stop.wait(0.05):
                error = node.link.last_error or ""
                if "refused the connection" in error:  # credentials, not a dead port
                    raise BrokerError(f"the broker refused {node.node_id}: {error}")
                if time.monotonic() > deadline:
                    where = f"{self.mqtt.host}:{self.mqtt.effective_port}"
                    raise BrokerError(
                        f"cannot reach the MQTT broker at {where} within {timeout_s:.0f} s"
                    )


def _wait(condition: Any, timeout_s: float, stop: threading.Event) -> None:
    """Poll `condition` until it holds, `timeout_s` passes or `stop` is set."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline and not stop.wait(0.05):
        pass
