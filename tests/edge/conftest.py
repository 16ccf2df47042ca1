"""Edge fixtures: short clips cut from the real footage, a broker of the test's own, and the
real node started on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.edge.node_process import NodeProcess, Walkway, write_config
from tests.edge.node_process import walkway as walkway_config


def write_clip(
    source: Path, target: Path, start: int, count: int, fps: float | None = None
) -> Path:
    """Copy frames [start, start+count) of a real video into a new MJPEG .avi, declared at `fps`
    (default: the source's), so a node pacing it in real time can replay it faster."""
    reader = cv2.VideoCapture(str(source))
    rate = fps or reader.get(cv2.CAP_PROP_FPS) or 10.0
    writer: cv2.VideoWriter | None = None
    index = 0
    try:
        while index < start + count:
            ok, frame = reader.read()
            if not ok:
                break
            if index >= start:
                if writer is None:
                    height, width = frame.shape[:2]
                    writer = cv2.VideoWriter(
                        str(target), cv2.VideoWriter.fourcc(*"MJPG"), rate, (width, height)
                    )
                writer.write(frame)
            index += 1
    finally:
        reader.release()
        if writer is not None:
            writer.release()
    return target


@pytest.fixture(scope="session")
def short_clip(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 0-29 of vtest.avi."""
    return write_clip(vtest_video, tmp_path_factory.mktemp("clips") / "short.avi", 0, 30)


@pytest.fixture(scope="session")
def quiet_video(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty walkway with sensor noise (see storefront_dev/footage.py), 60 frames."""
    from storefront_dev.footage import quiet_clip

    return quiet_clip(vtest_video, tmp_path_factory.mktemp("clips") / "quiet.avi", frames=60)


@pytest.fixture(scope="session")
def fast_vtest(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vtest.avi frames 0-399 at 40 fps: ten seconds of real walkway traffic."""
    return write_clip(vtest_video, tmp_path_factory.mktemp("clips") / "fast.avi", 0, 400, 40.0)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of the test's own, so it can be killed without disturbing others."""
    server = Mosquitto(workdir=tmp_path / "broker")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def probe_at() -> Iterator[Callable[..., Probe]]:
    """Probes that are closed whatever the test's outcome (no thread outlives a test)."""
    opened: list[Probe] = []

    def open_probe(port: int, client_id: str = "probe") -> Probe:
        probe = Probe(port, topic="storefront/#", client_id=client_id)
        opened.append(probe)
        assert probe.subscribed.wait(10)  # or it could miss what a node publishes at once
        return probe

    yield open_probe
    for probe in opened:
        probe.close()


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[[Path], NodeProcess]]:
    """Start the real node on a configuration; every node started is stopped after the test."""
    started: list[NodeProcess] = []

    def start(config: Path) -> NodeProcess:
        node = NodeProcess(config, tmp_path / "node.log")
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def walkway(
    broker: Mosquitto,
    fast_vtest: Path,
    tmp_path: Path,
    start_node: Callable[[Path], NodeProcess],
    probe_at: Callable[..., Probe],
) -> Callable[..., Walkway]:
    """Start node `cam1` on ten seconds of real walkway traffic, a probe listening from before;
    keyword arguments go into its configuration. (Called in the test: the sockets open there.)"""

    def start(**extra: Any) -> Walkway:
        probe = probe_at(broker.port)
        config = write_config(tmp_path, broker.port, walkway_config(fast_vtest, **extra))
        return Walkway(probe, config, start_node(config))

    return start
