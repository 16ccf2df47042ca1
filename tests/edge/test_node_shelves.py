"""The real node on a composed shelf clip publishes shelf events, stock and carts by the contract
over a real mosquitto, and recalibrates a shelf on command."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from storefront_dev.shelf_scenes import TUNING, compose
from tests.edge.node_process import NodeProcess, reply
from tests.node_contract import contract

ASSETS = Path(__file__).resolve().parents[2] / ".assets"
# Two takes of fruit while vtest's people walk past, 23 s of video.
SCENE = replace(TUNING[0], name="node-shelf", start=200, frames=230)


@pytest.fixture(scope="module")
def shelf_clip(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("node-shelf")
    truth = compose(SCENE, ASSETS, out)
    assert [e["change"] for e in truth["events"]] == ["taken", "taken"]
    return out


def test_node_publishes_shelf_changes_and_stock(
    broker: Mosquitto, shelf_clip: Path, tmp_path: Path
) -> None:
    config = yaml.safe_load((shelf_clip / "node-shelf.yaml").read_text())
    config.update(
        node_id="cam2",
        mqtt={"host": "127.0.0.1", "port": broker.port, "state_interval_s": 2},
        outbox={"path": str(tmp_path / "node.db")},
    )
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(config))
    probe = Probe(broker.port, topic="storefront/#", client_id="shelf-probe")
    node = NodeProcess(path, tmp_path / "node.log")
    try:

        def shelf_events() -> list[dict[str, Any]]:
            return [e for e in probe.events.values() if e["type"] == "shelf"]

        def stock() -> dict[str, Any]:
            return contract.parse("state", probe.last("cam2/state") or b"").get("stock", {})

        probe.wait(lambda: any(e["change"] == "empty" for e in shelf_events()), within_s=120)
        taken = [e for e in shelf_events() if e["change"] == "taken"]
        # Two takes, reported one by one or, when the shelf was never in view between them, as
        # one change of two facings.
        assert {e["product"] for e in taken} == {"fruits"}
        assert sum(e["count"] for e in taken) == 2
        assert taken[-1]["level"] == 0.0
        probe.wait(
            lambda: (
                stock().get("shelf", {}).get("products", {}).get("fruits")
                == {"level": 0.0, "status": "empty"}
            )
        )
        assert stock()["shelf"]["taken"] == 2
        assert stock()["shelf"]["level"] == 0.5

        recalibrated = reply(probe, "recal1", "recalibrate_shelf", {"shelf": "shelf"}, node="cam2")
        assert recalibrated["ok"] is True
        probe.wait(lambda: stock().get("shelf", {}).get("level") == 1.0, within_s=60)
    finally:
        stopped = node.stop()
        probe.close()
    assert stopped == 0

    description = contract.parse("description", probe.last("cam2/description") or b"")
    assert [p["id"] for p in description["shelves"][0]["products"]] == ["box", "fruits"]
    for topic, payload, _retained in probe.messages:
        if payload:
            kind = topic.split("/", 2)[2].replace("/", "_")
            assert contract.parse(kind, payload) is not None, topic
    # A taker whose visit was still open when the change was accepted has it in their cart.
    visits = {e["track"]: e for e in probe.events.values() if e["type"] == "visit"}
    for event in taken:
        if event["track"] in visits:
            assert "fruits" in visits[event["track"]]["cart"]["taken"]
