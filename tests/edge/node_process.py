"""The real node as a process of its own (`storefront-edge run`), as the node tests start it:
its configuration on a clip of real footage, the process, and what a receiver reads from it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from storefront_dev.mqtt_probe import Probe
from tests.node_contract import contract

ROOT = Path(__file__).resolve().parents[2]


def walkway(video: Path, **extra: Any) -> dict[str, Any]:
    """Node `cam1` watching the walkway on `video`: a path zone and a door line; `extra` adds or
    replaces settings."""
    return {
        "node_id": "cam1",
        "name": "Walkway",
        "timezone": "Europe/London",
        "camera": {"source": str(video), "loop": True},
        "zones": [
            {"id": "path", "name": "Path", "polygon": [[0, 0.25], [1, 0.25], [1, 0.75], [0, 0.75]]}
        ],
        "lines": [{"id": "door", "name": "Door", "start": [0.42, 0.0], "end": [0.42, 1.0]}],
        **extra,
    }


def write_config(tmp_path: Path, port: int, config: dict[str, Any], **mqtt: Any) -> Path:
    """`tmp_path`/node.yaml: `config` with the broker at `port`, reporting quickly (`mqtt`
    changes that), and an outbox in `tmp_path` unless it has one."""
    broker = {"host": "127.0.0.1", "port": port, "health_interval_s": 1, "state_interval_s": 2}
    config = {
        "outbox": {"path": str(tmp_path / "node.db")},
        **config,
        "mqtt": {**broker, "reconnect_max_s": 1, **mqtt},
    }
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class NodeProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge_node", "run", "--config", str(config)],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            return self.process.wait(20)
        return int(self.process.returncode)


class Walkway(NamedTuple):
    """A node started on the walkway clip, and the probe that listened from before its start."""

    probe: Probe
    config: Path
    node: NodeProcess


def state_of(probe: Probe, node: str = "cam1") -> dict[str, Any]:
    return contract.parse("state", probe.last(f"{node}/state") or b"")


def reply(
    probe: Probe,
    request_id: str,
    name: str,
    args: dict[str, Any] | None = None,
    *,
    node: str = "cam1",
    root: str = "storefront",
) -> dict[str, Any]:
    """Send `node` one command and return its reply, checked by the contract."""
    answer: dict[str, Any] = contract.parse(
        "reply", probe.command(node, name, request_id, args, root=root)
    )
    return answer
