"""A plain MQTT subscriber for tests: records what a node publishes, as a receiver would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_node.contract import VERSION


class Probe:
    """Subscribes to a topic filter and keeps every message; de-duplicates events by seq."""

    def __init__(self, port: int, topic: str = "#", client_id: str = "probe") -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.events: dict[tuple[str, int], dict[str, Any]] = {}
        self.duplicates = 0
        self._lock = threading.Lock()
        self._closed = False
        # A persistent session: the broker keeps QoS 1 messages for the probe while it
        # reconnects (after a broker restart), as Home Assistant's client would need.
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()  # set once the broker has confirmed the subscription
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        # paho takes fractions of a second here, though its annotations say int.
        self.client.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))
            if "/event/" in msg.topic:
                body = json.loads(msg.payload)
                key = (body["stream"], body["seq"])
                if key in self.events:
                    self.duplicates += 1
                else:
                    self.events[key] = body

    def last(self, suffix: str) -> bytes | None:
        with self._lock:
            for topic, payload, _ in reversed(self.messages):
                if topic.endswith(suffix):
                    return payload
        return None

    def command(
        self,
        node: str,
        name: str,
        request_id: str,
        args: dict[str, Any] | None = None,
        *,
        root: str = "storefront",
        within_s: float = 30.0,
    ) -> bytes:
        """Send `node` a command, as Home Assistant does, and return its reply's payload."""
        body: dict[str, Any] = {"schema": VERSION, "id": request_id, "command": name}
        if args is not None:
            body["args"] = args
        self.client.publish(f"{root}/{node}/command", json.dumps(body), qos=1)
        found: list[bytes] = []

        def replied() -> bool:
            reply = self.last(f"{node}/reply")
            if reply is not None and json.loads(reply)["id"] == request_id:
                found.append(reply)
            return bool(found)

        self.wait(replied, within_s)
        return found[0]

    def seqs(self) -> list[int]:
        with self._lock:
            return sorted(seq for _, seq in self.events)

    def wait(self, condition: Callable[[], bool], within_s: float = 20.0) -> None:
        deadline = time.monotonic() + within_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.02)

    def close(self) -> None:
        """Idempotent: stop the network thread and disconnect."""
        if self._closed:
            return
        self._closed = True
        self.client.loop_stop()
        self.client.disconnect()
