"""The ACL installers are given (docs/mosquitto/acl.conf) on a real mosquitto: a node publishes
only under its own subtree and reads only its own commands; Home Assistant's user reads all."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from storefront_dev.servers import Mosquitto

ACL = Path(__file__).resolve().parents[2] / "docs" / "mosquitto" / "acl.conf"
USERS = {"homeassistant": "ha-secret", "entrance": "entrance-secret", "backdoor": "back-secret"}


class Client:
    """A logged-in client that records what it receives."""

    def __init__(self, port: int, user: str, topics: list[str]) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"acl-{user}")
        self.client.username_pw_set(user, USERS[user])
        self.client.on_message = lambda _c, _u, m: self.received.append((m.topic, m.payload))
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        if topics:
            self.client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in topics])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if topics:
            assert self.subscribed.wait(10)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(workdir=tmp_path / "acl", users=USERS, acl_file=ACL)
    server.start()
    yield server
    server.stop()


def _settle(clients: list[Client], marker: Client, topic: str) -> None:
    """Publish a marker the listener may see, so everything sent before it has arrived."""
    marker.publish(topic, b"marker")
    deadline = time.monotonic() + 10
    while not any(p == b"marker" for c in clients for _, p in c.received):
        assert time.monotonic() < deadline, "the marker never arrived"
        time.sleep(0.02)


def test_a_node_cannot_publish_or_read_as_another_node(broker: Mosquitto) -> None:
    ha = Client(broker.port, "homeassistant", ["storefront/#"])
    backdoor = Client(broker.port, "backdoor", ["storefront/#"])
    entrance = Client(broker.port, "entrance", [])
    try:
        entrance.publish("storefront/entrance/state", b"own state")
        entrance.publish("storefront/backdoor/state", b"forged state")
        entrance.publish("storefront/backdoor/event/crossing", b"forged event")
        entrance.publish("storefront/backdoor/command", b"forged command")
        ha.publish("storefront/entrance/command", b"for entrance only")
        _settle([ha], entrance, "storefront/entrance/health")
        _settle([backdoor], ha, "storefront/backdoor/command")

        seen_by_ha = {payload for _, payload in ha.received}
        assert b"own state" in seen_by_ha
        assert b"for entrance only" in seen_by_ha
        assert not {b"forged state", b"forged event", b"forged command"} & seen_by_ha
        # The other node subscribed to everything, yet reads only its own command topic.
        assert [t for t, _ in backdoor.received] == ["storefront/backdoor/command"]
        assert backdoor.received[0][1] == b"marker"
    finally:
        for client in (ha, backdoor, entrance):
            client.close()
