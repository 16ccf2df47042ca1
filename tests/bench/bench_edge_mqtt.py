"""Benchmark: the node's MQTT path through a real mosquitto. Prints JSON.

- event_throughput: events appended to the durable outbox as fast as possible, published with
  QoS 1, counted when the broker has acknowledged every one (outbox empty) and a subscriber has
  received every one;
- frame_to_publish_ms: the node running on vtest.avi in real time — for every crossing, the time
  from the camera frame that produced it to its arrival at a subscriber (p50 / p95);
- outbox_growth: disk bytes per queued event (realistic crossings and visits) while the broker
  is away, and what that means per hour at a busy shop's event rate.

    .venv/bin/python -m tests.bench.bench_edge_mqtt [--video .assets/vtest.avi]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from edge_node.config import MqttConfig, parse_config
from edge_node.link import Link
from edge_node.node import Node
from edge_node.outbox import EventQueue
from edge_node.pipeline import FrameResult
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto

# A busy small shop: 300 visitors an hour, each crossing the door twice and leaving a visit
# summary — 900 events an hour.
BUSY_EVENTS_PER_HOUR = 900


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def event_throughput(port: int, workdir: Path, count: int = 5000) -> dict[str, Any]:
    outbox = EventQueue(workdir / "throughput.db")
    probe = Probe(port, topic="bench/#", client_id="bench-throughput")
    probe.subscribed.wait(10)  # every event must reach it, or the loop below never ends
    link = Link(
        MqttConfig(host="127.0.0.1", port=port, topic_root="bench"),
        "cam1",
        outbox,
        on_command=lambda _c: None,
    ).start()
    while not link.connected:
        time.sleep(0.01)
    start = time.perf_counter()
    for i in range(count):
        outbox.append("crossing", {"line": "door", "direction": "in", "track": i})
        link.wake()
    appended = time.perf_counter() - start
    while outbox.stats().depth or len(probe.events) < count:
        time.sleep(0.005)
    total = time.perf_counter() - start
    link.stop()
    probe.close()
    return {
        "events": count,
        "append_per_s": round(count / appended),
        "delivered_per_s": round(count / total),
        "duplicates_at_subscriber": probe.duplicates,
    }


class _TimedNode(Node):
    """Notes, for each crossing, when the camera delivered the frame that produced it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capture_wall: dict[tuple[str, int], float] = {}

    def record(self, result: FrameResult) -> None:
        # LiveCapture stamps frames with the monotonic clock; convert to wall time.
        capture_wall = time.time() - (time.monotonic() - result.timestamp)
        for crossing in result.analytics.crossings:
            self.capture_wall[(crossing.line_id, crossing.track_id)] = capture_wall
        super().record(result)


def frame_to_publish(port: int, workdir: Path, video: Path, seconds: float) -> dict[str, Any]:
    config = parse_config(
        {
            "node_id": "cam1",
            "camera": {"source": str(video), "loop": True},
            "lines": [{"id": "door", "name": "Door", "start": [0.42, 0.0], "end": [0.42, 1.0]}],
            "mqtt": {"host": "127.0.0.1", "port": port, "topic_root": "lat"},
            "outbox": {"path": str(workdir / "latency.db")},
        }
    )
    arrivals: dict[tuple[str, int], float] = {}
    probe = Probe(port, topic="lat/cam1/event/crossing", client_id="bench-latency")
    original = probe._on_message

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        body = json.loads(msg.payload)
        arrivals.setdefault((body["line"], body["track"]), time.time())
        original(client, userdata, msg)

    probe.client.on_message = on_message
    probe.subscribed.wait(10)
    node = _TimedNode(config)
    runner = threading.Thread(target=node.run)
    runner.start()
    time.sleep(seconds)
    node.stop()
    runner.join()
    probe.close()
    latencies = [
        (arrivals[key] - captured) * 1000
        for key, captured in node.capture_wall.items()
        if key in arrivals
    ]
    return {
        "crossings": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(_percentile(latencies, 0.95), 1) if latencies else None,
        "seconds": seconds,
    }


def outbox_growth(workdir: Path, count: int = 3000) -> dict[str, Any]:
    path = workdir / "growth.db"
    outbox = EventQueue(path)
    base = sum(p.stat().st_size for p in workdir.glob("growth.db*"))
    for i in range(count):
        if i % 3 == 2:
            outbox.append(
                "visit",
                {
                    "track": i,
                    "started": 1795380000.0 + i,
                    "duration_s": 84.2,
                    "zones": {"window": 20.1, "counter": 51.7},
                    "path": ["window", "counter"],
                    "crossings": [
                        {"line": "door", "direction": "in"},
                        {"line": "door", "direction": "out"},
                    ],
                    "group_size": 1,
                    "persona": None,
                },
            )
        else:
            outbox.append(
                "crossing", {"line": "door", "direction": "in" if i % 3 else "out", "track": i}
            )
    stats = outbox.stats()
    outbox.close()  # checkpoints the WAL into the database file
    size = sum(p.stat().st_size for p in workdir.glob("growth.db*")) - base
    per_event = size / count
    return {
        "events": count,
        "payload_bytes_per_event": round(stats.bytes / count, 1),
        "disk_bytes_per_event": round(per_event, 1),
        "busy_shop_events_per_hour": BUSY_EVENTS_PER_HOUR,
        "disk_mb_per_hour": round(per_event * BUSY_EVENTS_PER_HOUR / 1e6, 3),
        "hours_in_default_256_mb": round(256e6 / (per_event * BUSY_EVENTS_PER_HOUR)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--video", type=Path, default=Path(".assets/vtest.avi"))
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir=workdir / "broker")
        broker.start()
        try:
            result = {
                "event_throughput": event_throughput(broker.port, workdir),
                "frame_to_publish": frame_to_publish(
                    broker.port, workdir, args.video, args.seconds
                ),
                "outbox_growth": outbox_growth(workdir),
            }
        finally:
            broker.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
