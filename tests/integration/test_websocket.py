"""The panel's websocket commands over the real broker, with a paho client answering as a node;
only administrators may use them. The real node answers in tests/integration/test_panel.py."""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho
import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from storefront_dev.servers import Mosquitto
from tests.integration.conftest import ROOT, NodePublisher, wait_for
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
TILL = {"id": "till", "name": "Till", "polygon": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3]]}


class AnsweringNode:
    """Answers commands as a node would: a layout is taken unless a line has no length."""

    def __init__(self, publisher: NodePublisher, port: int) -> None:
        self.publisher = publisher
        self.commands: list[dict[str, Any]] = []
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="answering-node")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"{ROOT}/{publisher.node_id}/command", qos=1)
        self.client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: paho.MQTTMessage) -> None:
        command = json.loads(message.payload)
        self.commands.append(command)
        error = None
        if command["command"] == "set_layout":
            error = self._take_layout(command["args"]["layout"])
        elif command["command"] == "snapshot":
            self.publisher.publish("snapshot", self._snapshot(command["id"]))
        reply = {"schema": 1, "id": command["id"], "command": command["command"]}
        self.publisher.publish(
            "reply", {**reply, "ok": error is None, "error": error, "ts": time.time()}
        )

    def _take_layout(self, layout: dict[str, Any]) -> str | None:
        for index, line in enumerate(layout.get("lines", [])):
            if line["start"] == line["end"]:
                where = f"lines[{index}] '{line['id']}'"
                return f"layout: 1 problem(s):\n  {where}: start and end are the same point"
        described = {
            **DESCRIPTION,
            **{k: layout.get(k, []) for k in ("zones", "lines", "displays")},
        }
        self.publisher.publish("description", described, retain=True)
        return None

    @staticmethod
    def _snapshot(request_id: str) -> dict[str, Any]:
        return {
            "schema": 1,
            "id": request_id,
            "ts": time.time(),
            "content_type": "image/jpeg",
            "width": 768,
            "height": 576,
            "people_pixelated": 0,
            "image": base64.b64encode(JPEG).decode(),
        }

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def answering(node: NodePublisher, mqtt_broker: Mosquitto) -> Iterator[AnsweringNode]:
    answering = AnsweringNode(node, mqtt_broker.port)
    yield answering
    answering.close()


@pytest.fixture
async def panel_entry(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher, answering: AnsweringNode
) -> MockConfigEntry:
    """The store set up with its answering node described, online and with a first snapshot."""
    node.publish("availability", "online", retain=True)
    node.publish("description", DESCRIPTION, retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    # A node seen for the first time is asked for a snapshot (no broken image in the app).
    await wait_for(
        hass, lambda: "entrance" in hub.nodes and hub.nodes["entrance"].snapshot is not None
    )
    return store_entry


async def _call(client: Any, **message: Any) -> dict[str, Any]:
    await client.send_json_auto_id(message)
    answer: dict[str, Any] = await client.receive_json()
    return answer


async def test_get_lists_nodes_and_gives_layout_and_snapshot(
    hass: HomeAssistant, panel_entry: MockConfigEntry, answering: AnsweringNode, hass_ws_client: Any
) -> None:
    client = await hass_ws_client(hass)

    answer = await _call(client, type="storefront/layout/get")
    assert answer["success"] is True, answer
    result = answer["result"]
    assert result["nodes"] == [
        {
            "entry_id": panel_entry.entry_id,
            "node_id": "entrance",
            "name": "Main Street: Entrance camera",
            "online": True,
        }
    ]
    assert result["layout"]["version"] == 1
    assert [zone["id"] for zone in result["layout"]["zones"]] == ["window", "counter"]
    assert result["layout"]["lines"] == DESCRIPTION["lines"]
    assert base64.b64decode(result["snapshot"]["image"]) == JPEG

    unknown = await _call(
        client, type="storefront/layout/get", entry_id=panel_entry.entry_id, node_id="back"
    )
    assert unknown["success"] is False
    assert unknown["error"]["translation_key"] == "unknown_node"


async def test_set_sends_the_layout_and_shows_the_nodes_reason_on_refusal(
    hass: HomeAssistant, panel_entry: MockConfigEntry, answering: AnsweringNode, hass_ws_client: Any
) -> None:
    client = await hass_ws_client(hass)
    target = {"entry_id": panel_entry.entry_id, "node_id": "entrance"}
    layout = {"version": 1, "zones": [TILL], "lines": DESCRIPTION["lines"], "displays": []}

    answer = await _call(client, type="storefront/layout/set", layout=layout, **target)
    assert answer["success"] is True, answer
    assert answer["result"]["layout"]["zones"] == [TILL]
    sent = [c for c in answering.commands if c["command"] == "set_layout"]
    assert sent[-1]["args"]["layout"] == layout

    zero = copy.deepcopy(layout)
    zero["lines"][0]["end"] = zero["lines"][0]["start"]
    refused = await _call(client, type="storefront/layout/set", layout=zero, **target)
    assert refused["success"] is False
    assert refused["error"]["translation_key"] == "command_refused"
    assert "lines[0] 'door': start and end are the same point" in refused["error"]["message"]
    assert [z.id for z in panel_entry.runtime_data.hub.nodes["entrance"].info.zones] == ["till"]

    # A layout that breaks the contract is refused here, naming the field, and never sent.
    before = len(answering.commands)
    broken = {**layout, "zones": [{**TILL, "polygon": [[0.1, 0.1]]}]}
    invalid = await _call(client, type="storefront/layout/set", layout=broken, **target)
    assert invalid["error"]["translation_key"] == "invalid_command"
    assert "polygon" in invalid["error"]["message"]
    await hass.async_block_till_done()
    assert len(answering.commands) == before


async def test_snapshot_request_returns_the_new_picture(
    hass: HomeAssistant, panel_entry: MockConfigEntry, answering: AnsweringNode, hass_ws_client: Any
) -> None:
    client = await hass_ws_client(hass)
    answer = await _call(
        client,
        type="storefront/snapshot/request",
        entry_id=panel_entry.entry_id,
        node_id="entrance",
    )
    assert answer["success"] is True, answer
    assert (answer["result"]["snapshot"]["width"], answer["result"]["snapshot"]["height"]) == (
        768,
        576,
    )
    asked = [c["id"] for c in answering.commands if c["command"] == "snapshot"]
    assert panel_entry.runtime_data.hub.nodes["entrance"].snapshot.request_id == asked[-1]


@pytest.mark.parametrize(
    "message",
    [
        {"type": "storefront/layout/get"},
        {"type": "storefront/layout/set", "entry_id": "x", "node_id": "entrance", "layout": {}},
        {"type": "storefront/snapshot/request", "entry_id": "x", "node_id": "entrance"},
    ],
)
async def test_only_administrators_may_use_the_commands(
    hass: HomeAssistant,
    panel_entry: MockConfigEntry,
    answering: AnsweringNode,
    hass_ws_client: Any,
    hass_read_only_access_token: str,
    message: dict[str, Any],
) -> None:
    before = len(answering.commands)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    answer = await _call(client, **message)
    assert answer["success"] is False
    assert answer["error"]["code"] == "unauthorized"
    await hass.async_block_till_done()
    assert len(answering.commands) == before
