"""The MQTT link against a real mosquitto: availability, retained state, events exactly once
through broker restarts, commands, and clear messages for refused or unreachable brokers."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from edge_node.config import MqttConfig
from edge_node.link import Link, parse_command
from edge_node.outbox import EventQueue
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto, free_port
from tests.node_contract import EXAMPLES, contract

STATE = EXAMPLES["state"]


def _link(
    port: int, outbox: EventQueue, commands: list[dict[str, Any]] | None = None, **mqtt: Any
) -> Link:
    config = MqttConfig(host="127.0.0.1", port=port, reconnect_max_s=1, **mqtt)
    sink = commands if commands is not None else []
    return Link(config, "cam1", outbox, on_command=sink.append)


def test_availability_retained_state_and_last_will(broker: Mosquitto, tmp_path: Path) -> None:
    probe = Probe(broker.port)
    link = _link(broker.port, EventQueue(tmp_path / "q.db"))
    link.set_retained("state", STATE)
    link.start()
    try:
        probe.wait(lambda: probe.last("cam1/state") is not None)
        assert probe.last("cam1/availability") == b"online"
        assert contract.parse("state", probe.last("cam1/state") or b"") == STATE
    finally:
        link.stop()
    probe.wait(lambda: probe.last("cam1/availability") == b"offline")
    probe.close()

    # A fresh subscriber gets the retained values: offline after the orderly stop.
    late = Probe(broker.port, client_id="late")
    late.wait(lambda: late.last("cam1/state") is not None)
    assert late.last("cam1/availability") == b"offline"
    late.close()


def test_events_arrive_once_each_through_a_broker_restart(
    broker: Mosquitto, tmp_path: Path
) -> None:
    outbox = EventQueue(tmp_path / "q.db")
    probe = Probe(broker.port)  # subscribed before the first event, or it would miss some
    assert probe.subscribed.wait(10)
    link = _link(broker.port, outbox).start()
    try:
        for track in range(200):
            outbox.append("crossing", {"line": "door", "direction": "in", "track": track})
            link.wake()
            if track == 80:
                broker.kill()  # crash mid-stream: unacknowledged events stay in the outbox
            if track == 120:
                broker.start()
            time.sleep(0.005)
        probe.wait(lambda: len(probe.seqs()) == 200, within_s=30)
        probe.wait(lambda: outbox.stats().depth == 0)
    finally:
        link.stop()
        probe.close()
    assert probe.seqs() == list(range(1, 201))
    assert link.connects >= 2
    for body in probe.events.values():
        contract.validate("event_crossing", body)


def test_commands_reach_the_node_and_bad_ones_are_ignored(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    commands: list[dict[str, Any]] = []
    link = _link(broker.port, EventQueue(tmp_path / "q.db"), commands).start()
    probe = Probe(broker.port)
    try:
        probe.wait(lambda: link.connected)
        with caplog.at_level(logging.WARNING):
            probe.client.publish("storefront/cam1/command", b"{broken", qos=1)
            probe.client.publish(
                "storefront/cam1/command",
                json.dumps({"schema": 1, "id": "r1", "command": "snapshot"}),
                qos=1,
            )
            probe.wait(lambda: len(commands) == 1)
        assert commands == [{"schema": 1, "id": "r1", "command": "snapshot"}]
        assert "ignored command on storefront/cam1/command: not valid JSON" in caplog.text
    finally:
        link.stop()
        probe.close()


def test_a_command_sent_when_the_node_shows_online_arrives(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """A receiver that sends a command the moment it sees `online` (as Home Assistant may do
    for a node it was waiting for) must not lose it: online means subscribed."""
    commands: list[dict[str, Any]] = []
    probe = Probe(broker.port, topic="storefront/cam1/availability")
    assert probe.subscribed.wait(10)
    command = {"schema": 1, "id": "first", "command": "snapshot"}

    def on_availability(client: Any, _userdata: Any, message: Any) -> None:
        if message.payload == b"online":
            client.publish("storefront/cam1/command", json.dumps(command), qos=1)

    probe.client.on_message = on_availability
    link = _link(broker.port, EventQueue(tmp_path / "q.db"), commands).start()
    try:
        probe.wait(lambda: len(commands) == 1)
        assert commands == [command]
        assert link.connected
    finally:
        link.stop()
        probe.close()


def test_a_depth_bomb_on_the_command_topic_leaves_the_link_publishing(
    broker: Mosquitto, tmp_path: Path
) -> None:
    outbox = EventQueue(tmp_path / "q.db")
    commands: list[dict[str, Any]] = []
    link = _link(broker.port, outbox, commands).start()
    probe = Probe(broker.port)
    try:
        probe.wait(lambda: link.connected)
        for depth in (1000, 30000):
            probe.client.publish("storefront/cam1/command", b"[" * depth + b"]" * depth, qos=1)
            probe.client.publish("storefront/cam1/command", b'{"a":' * depth, qos=1)
        good = {"schema": 1, "id": "after", "command": "snapshot"}
        probe.client.publish("storefront/cam1/command", json.dumps(good), qos=1)
        probe.wait(lambda: commands == [good])
        outbox.append("crossing", {"line": "door", "direction": "in", "track": 1})
        link.wake()
        probe.wait(lambda: probe.seqs() == [1])
        assert link.rejected_commands == 4
        assert link.restarts == 0
        assert link.connects == 1
    finally:
        link.stop()
        probe.close()


class LoggingMosquitto(Mosquitto):
    """A broker that logs every packet, to read the order in which a client sent them."""

    def command(self) -> list[str]:
        command = super().command()
        with (self.workdir / "mosquitto.conf").open("a") as conf:
            conf.write("log_type all\n")
        return command

    def packets_from(self, client_id: str) -> list[str]:
        log = (self.workdir / f"{self.name}.log").read_text(errors="replace")
        return [line for line in log.splitlines() if client_id in line]


def test_the_node_says_online_only_after_the_broker_acknowledged_its_subscription(
    tmp_path: Path,
) -> None:
    broker = LoggingMosquitto(workdir=tmp_path / "broker")
    broker.start()
    link = _link(broker.port, EventQueue(tmp_path / "q.db")).start()
    try:
        deadline = time.monotonic() + 20
        while not link.connected:
            assert time.monotonic() < deadline, "the link never connected"
            time.sleep(0.02)
    finally:
        link.stop()
        broker.stop()  # mosquitto has written its whole log once it has exited
    lines = broker.packets_from("storefront-cam1")
    suback = next(i for i, line in enumerate(lines) if "Sending SUBACK to" in line)
    online = next(i for i, line in enumerate(lines) if "'storefront/cam1/availability'" in line)
    assert suback < online, "\n".join(lines)


def test_an_error_inside_the_link_costs_one_connection_not_the_link(
    broker: Mosquitto, tmp_path: Path
) -> None:
    outbox = EventQueue(tmp_path / "q.db")
    broken = {"left": 1}

    def pending(after_seq: int = 0, limit: int = 100) -> list[Any]:
        if broken["left"]:  # a fault that cannot be produced from outside: a bug in the loop
            broken["left"] -= 1
            raise RuntimeError("disk said no")
        return EventQueue.pending(outbox, after_seq, limit)

    outbox.pending = pending  # type: ignore[method-assign]
    link = _link(broker.port, outbox).start()
    probe = Probe(broker.port)
    try:
        outbox.append("crossing", {"line": "door", "direction": "in", "track": 1})
        link.wake()
        probe.wait(lambda: probe.seqs() == [1], within_s=20)
        assert link.restarts == 1
        assert link.last_restart == "RuntimeError: disk said no"
    finally:
        link.stop()
        probe.close()


def test_replay_sends_acknowledged_events_again(broker: Mosquitto, tmp_path: Path) -> None:
    outbox = EventQueue(tmp_path / "q.db")
    link = _link(broker.port, outbox).start()
    probe = Probe(broker.port)
    try:
        for track in range(250):
            outbox.append("crossing", {"line": "door", "direction": "in", "track": track})
        link.wake()
        probe.wait(lambda: outbox.stats().depth == 0 and len(probe.seqs()) == 250)
        assert outbox.replay_from() == 1
        probe.events.clear()
        assert "give the stream and from_seq" in (link.replay({}) or "")
        assert "not 0000000000000000" in (link.replay({"stream": "0" * 16, "from_seq": 1}) or "")
        assert link.replay({"stream": outbox.stream, "from_seq": 101}) is None
        probe.wait(lambda: len(probe.seqs()) == 150)
        assert probe.seqs() == list(range(101, 251))
    finally:
        link.stop()
        probe.close()


def test_home_assistant_birth_makes_the_node_republish(broker: Mosquitto, tmp_path: Path) -> None:
    link = _link(broker.port, EventQueue(tmp_path / "q.db"))
    link.set_retained("state", STATE)
    link.start()
    probe = Probe(broker.port, topic="storefront/cam1/state")
    try:
        probe.wait(lambda: len(probe.messages) == 1)
        probe.client.publish("homeassistant/status", b"online", qos=1)
        probe.wait(lambda: len(probe.messages) == 2)
        assert probe.messages[1][1] == probe.messages[0][1]
        # Garbage retained on availability is put right by the same birth message.
        probe.client.publish("storefront/cam1/availability", b"\xff garbage", qos=1, retain=True)
        probe.client.publish("homeassistant/status", b"online", qos=1)
        late = Probe(broker.port, client_id="late", topic="storefront/cam1/availability")
        late.wait(lambda: late.last("cam1/availability") == b"online")
        late.close()
    finally:
        link.stop()
        probe.close()


def test_wrong_credentials_are_named_and_the_node_keeps_trying(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Mosquitto(workdir=tmp_path / "secure", users={"node": "right"})
    server.start()
    outbox = EventQueue(tmp_path / "q.db")
    link = _link(server.port, outbox, username="node", password="wrong")
    try:
        with caplog.at_level(logging.WARNING):
            link.start()
            deadline = time.monotonic() + 10
            while "refused the connection" not in caplog.text:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert "check mqtt.username and mqtt.password" in caplog.text
        assert link.connected is False
        assert link._thread.is_alive()
        outbox.append("crossing", {"line": "door", "direction": "in", "track": 1})
        assert outbox.stats().depth == 1  # nothing lost while refused
    finally:
        link.stop()
        server.stop()


def test_right_credentials_from_a_password_file(tmp_path: Path) -> None:
    server = Mosquitto(workdir=tmp_path / "secure", users={"node": "s3cret"})
    server.start()
    secret = tmp_path / "mqtt-password"
    secret.write_text("s3cret\n")
    link = _link(
        server.port, EventQueue(tmp_path / "q.db"), username="node", password_file=str(secret)
    ).start()
    try:
        deadline = time.monotonic() + 10
        while not link.connected:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        link.stop()
        server.stop()


def test_unreachable_broker_is_reported_without_a_tight_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    link = _link(free_port(), EventQueue(tmp_path / "q.db"))
    with caplog.at_level(logging.DEBUG, logger="edge_node.link"):
        link.start()
        time.sleep(2.5)
        link.stop()
    assert "cannot reach MQTT broker 127.0.0.1" in caplog.text
    attempts = caplog.text.count("reconnecting to")
    # Backoff 1 s (with jitter 0.5-1.0) then 1 s (capped): a handful of tries, not hundreds.
    assert 1 <= attempts <= 6


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"x" * 70000, "too large"),
        (b"[1]", "not a JSON object"),
        (b'{"schema": 2, "id": "a", "command": "snapshot"}', "unknown contract version 2"),
        (b'{"schema": 1, "id": "has space", "command": "snapshot"}', "id:"),
        (b'{"schema": 1, "id": "a", "command": "format"}', "command: 'format' is not one of"),
        (b"[" * 30000 + b"]" * 30000, "nested deeper than 12 levels"),
        (b'{"schema": 1, "id": "a", "command": "replay", "args": []}', "args: must be object"),
        (
            b'{"schema": 1, "id": "a", "command": "replay",'
            b' "args": {"stream": "9f2c41d07a3b5e68", "from_seq": 10000000000000000000}}',
            "args.from_seq",
        ),
    ],
    ids=lambda value: value[:40].decode(errors="replace") if isinstance(value, bytes) else None,
)
def test_parse_command_reasons(payload: bytes, reason: str) -> None:
    result = parse_command(payload)
    assert isinstance(result, str)
    assert reason in result


def test_every_contract_command_example_is_accepted() -> None:
    for example in contract.CONTRACT["definitions"]["command"]["examples"]:
        assert parse_command(json.dumps(example).encode()) == example
