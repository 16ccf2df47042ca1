"""`storefront-edge run` as a real process on real footage against a real mosquitto.

Everything a receiver sees is checked against the contract; the node is killed with SIGKILL and
restarted, the broker goes away for longer than the outbox bound, and commands are exercised —
including a snapshot in which no person may remain recognisable.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import yaml

from edge_node.detect import Detector
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.edge.node_process import NodeProcess, Walkway, reply, state_of
from tests.node_contract import contract

Start = Callable[..., Walkway]


def _next_seq(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
    return int(row[0]) if row else 1


def test_node_publishes_by_the_contract_and_survives_sigkill(
    walkway: Start, start_node: Callable[[Path], NodeProcess]
) -> None:
    probe, config, node = walkway()
    probe.wait(lambda: len(probe.seqs()) >= 3, within_s=60)
    before_kill = state_of(probe)
    node.kill()  # power cut: the Last Will says offline
    probe.wait(lambda: probe.last("cam1/availability") == b"offline")

    node = start_node(config)
    probe.wait(lambda: probe.last("cam1/availability") == b"online")
    probe.wait(lambda: probe.last("cam1/health") is not None, within_s=60)
    probe.wait(
        lambda: (
            len(probe.seqs()) >= len(probe.seqs()) + 0
            and max(probe.seqs()) >= max(before_kill["last_seq"], 1) + 3
        ),
        within_s=60,
    )
    assert node.stop() == 0
    probe.wait(lambda: probe.last("cam1/availability") == b"offline")

    # Every event, once, in one stream, numbered without gaps across the kill.
    seqs = probe.seqs()
    assert seqs == list(range(1, len(seqs) + 1))
    assert len({stream for stream, _ in probe.events}) == 1
    # Counters continued from where they were: nothing reset, nothing counted twice.
    final = state_of(probe)
    crossings = [e for e in probe.events.values() if e["type"] == "crossing"]
    door = final["counters"]["lines"]["door"]
    assert door["in"] + door["out"] == len(crossings)
    # Visitors are the visits that came in through the entrance line (docs/personas.md).
    came_in = [
        e
        for e in probe.events.values()
        if e["type"] == "visit" and {"line": "door", "direction": "in"} in e.get("crossings", [])
    ]
    assert final["counters"]["visits"] == len(came_in)
    assert door["in"] >= before_kill["counters"]["lines"]["door"]["in"]

    for topic, payload, _retained in probe.messages:
        kind = topic.split("/", 2)[2].replace("/", "_")
        if not payload:
            continue
        parsed = contract.parse(kind, payload)
        assert parsed is not None
    description = contract.parse("description", probe.last("cam1/description") or b"")
    assert description["zones"][0]["id"] == "path"
    health = contract.parse("health", probe.last("cam1/health") or b"")
    assert health["camera"] == "ok"
    assert health["fps"] > 0


def test_commands_snapshot_reset_and_bad_reload(walkway: Start, tmp_path: Path) -> None:
    probe, config, _ = walkway()
    probe.wait(lambda: len(probe.seqs()) >= 2, within_s=60)

    assert reply(probe, "snap1", "snapshot")["ok"] is True
    probe.wait(lambda: probe.last("cam1/snapshot") is not None)
    snapshot = contract.parse("snapshot", probe.last("cam1/snapshot") or b"")
    image = cv2.imdecode(
        np.frombuffer(base64.b64decode(snapshot["image"]), np.uint8), cv2.IMREAD_COLOR
    )
    assert image.shape == (576, 768, 3)
    assert snapshot["people_pixelated"] >= 1
    # No clearly visible person is left for the detector to find in what was sent (a walking,
    # unhidden person scores 0.8-0.99; pixel blocks next to a post can fool it at ~0.5). The
    # model-free check of every person region is in test_snapshot.py.
    found = Detector("bundled", min_score=0.7).detect(image)
    if found:
        cv2.imwrite(str(tmp_path / "snapshot.png"), image)
    assert found == [], f"see {tmp_path / 'snapshot.png'}"

    assert reply(probe, "reset1", "reset_counters")["ok"] is True
    probe.wait(
        lambda: (
            state_of(probe)["counters"]["visits"] == 0
            and sum(state_of(probe)["counters"]["lines"]["door"].values()) <= 1
        )
    )

    config.write_text(config.read_text().replace("node_id: cam1", "node_id: Bad Id"))
    reloaded = reply(probe, "reload1", "reload_config")
    assert reloaded["ok"] is False
    assert "node_id" in (reloaded["error"] or "")
    # The node keeps running on its old configuration.
    health_before = probe.last("cam1/health")
    probe.wait(lambda: probe.last("cam1/health") != health_before)

    # A depth bomb on the command topic is refused; the node keeps publishing and answering.
    probe.client.publish("storefront/cam1/command", b"[" * 30000 + b"]" * 30000, qos=1)
    seen = max(probe.seqs())
    probe.wait(lambda: max(probe.seqs()) > seen, within_s=60)
    stream = state_of(probe)["stream"]
    assert reply(probe, "replay0", "replay", {"stream": "0" * 16, "from_seq": 1})["ok"] is False
    duplicates = probe.duplicates
    assert reply(probe, "replay1", "replay", {"stream": stream, "from_seq": 1})["ok"] is True
    probe.wait(lambda: probe.duplicates >= duplicates + seen, within_s=30)
    health = contract.parse("health", probe.last("cam1/health") or b"")
    probe.wait(lambda: json.loads(probe.last("cam1/health") or b"{}").get("rejected_commands"))
    assert health["link_restarts"] == 0

    # Privacy: nothing but the snapshot reply carries image data.
    for topic, payload, _ in probe.messages:
        if topic.endswith("/snapshot"):
            continue
        assert len(payload) < contract.MAX_PAYLOAD_BYTES, topic
        assert b"/9j/" not in payload, topic  # base64 of a JPEG's first bytes
        assert b"\xff\xd8\xff" not in payload, topic  # a raw JPEG


def test_snapshots_can_be_switched_off(walkway: Start) -> None:
    probe, _, _ = walkway(privacy={"snapshots": False})
    probe.wait(lambda: probe.last("cam1/health") is not None, within_s=60)
    refused = reply(probe, "s1", "snapshot")
    assert refused["ok"] is False
    assert "snapshots are disabled" in (refused["error"] or "")
    assert probe.last("cam1/snapshot") is None


def _described_zones(probe: Probe) -> list[str]:
    description = contract.parse("description", probe.last("cam1/description") or b"")
    return [zone["id"] for zone in description["zones"]]


def test_set_layout_is_applied_saved_and_survives_a_restart(
    walkway: Start, start_node: Callable[[Path], NodeProcess], tmp_path: Path
) -> None:
    probe, config, node = walkway()
    installer_yaml = config.read_text()
    probe.wait(lambda: probe.last("cam1/health") is not None, within_s=60)
    hall = {"id": "hall", "name": "Hall", "polygon": [[0, 0.2], [1, 0.2], [1, 1], [0, 1]]}
    door = {"id": "door", "name": "Door", "start": [0.42, 1.0], "end": [0.42, 0.0]}
    layout = {"version": 1, "zones": [hall], "lines": [door], "displays": []}

    applied = reply(probe, "layout1", "set_layout", {"layout": layout})
    assert applied["ok"] is True, applied["error"]
    probe.wait(lambda: _described_zones(probe) == ["hall"])
    # The new zone counts the people walking through it.
    probe.wait(lambda: state_of(probe)["occupancy"]["zones"].get("hall", 0) >= 1, within_s=60)
    saved = yaml.safe_load((tmp_path / "layout.yaml").read_text())
    assert [zone["id"] for zone in saved["zones"]] == ["hall"]
    assert config.read_text() == installer_yaml  # the installer's file is left as written

    zero = {**door, "end": door["start"]}
    refused = reply(probe, "layout2", "set_layout", {"layout": {**layout, "lines": [zero]}})
    assert refused["ok"] is False
    assert "lines[0] 'door': start and end are the same point" in (refused["error"] or "")
    assert yaml.safe_load((tmp_path / "layout.yaml").read_text()) == saved
    assert not (tmp_path / "layout.yaml.bak").exists()
    assert _described_zones(probe) == ["hall"]

    assert node.stop() == 0
    probe.wait(lambda: probe.last("cam1/availability") == b"offline")
    seen = len(probe.messages)
    start_node(config)

    def described_after_restart() -> list[bytes]:
        return [p for t, p, _ in probe.messages[seen:] if t.endswith("cam1/description")]

    probe.wait(lambda: bool(described_after_restart()), within_s=60)
    description = contract.parse("description", described_after_restart()[-1])
    assert [zone["id"] for zone in description["zones"]] == ["hall"]
    assert description["lines"][0]["start"] == [0.42, 1.0]  # the direction drawn is kept


def test_broker_away_beyond_the_outbox_bound_drops_oldest_and_says_so(
    walkway: Start, broker: Mosquitto, probe_at: Callable[..., Probe], tmp_path: Path
) -> None:
    probe, _, _ = walkway(outbox={"path": str(tmp_path / "node.db"), "max_events": 10})
    probe.wait(lambda: probe.last("cam1/health") is not None, within_s=60)
    broker.stop()
    # The node keeps counting while the broker is away: wait (bounded) until well over ten new
    # events are in its outbox, read straight from its database.
    database = tmp_path / "node.db"
    first = _next_seq(database)
    deadline = time.monotonic() + 90
    while _next_seq(database) < first + 15:
        assert time.monotonic() < deadline, "the node produced too few events"
        time.sleep(0.5)
    broker.start()
    probe = probe_at(broker.port, client_id="probe2")

    def dropped() -> int:
        health = probe.last("cam1/health")
        return contract.parse("health", health)["queue"]["dropped"] if health else 0

    probe.wait(lambda: dropped() > 0, within_s=30)
    health = contract.parse("health", probe.last("cam1/health") or b"")
    assert health["queue"]["depth"] <= 10
    assert any("dropped" in problem for problem in health["problems"])
    assert health["rss_mb"] < 400
