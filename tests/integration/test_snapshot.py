"""The snapshot button asks the node over the real broker; the node's anonymised JPEG reply
becomes the image entity's picture. Broken replies are refused."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import cv2
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.storefront.const import DOMAIN
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests.integration.conftest import NodePublisher, wait_for
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]
ASSETS = Path(__file__).resolve().parents[2] / ".assets"


def _jpeg() -> bytes:
    image = cv2.imread(str(ASSETS / "messi5.jpg"))
    return cv2.imencode(".jpg", cv2.blur(image, (25, 25)))[1].tobytes()


async def test_button_requests_and_image_shows_the_snapshot(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    mqtt_broker: Mosquitto,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "image", {})

    async def picture(entity_id: str) -> tuple[bytes, str]:
        # A test client freezes the router as it starts (Home Assistant itself keeps it open), so
        # it starts only once the store has registered its screen page.
        client = await hass_client()
        response = await client.get(f"/api/image_proxy/{entity_id}")
        assert response.status == 200
        return await response.read(), response.content_type

    node.publish("availability", "online", retain=True)
    node.publish("description", DESCRIPTION, retain=True)
    commands = Probe(mqtt_broker.port, topic="storefront/entrance/command", client_id="cmd-probe")
    try:
        assert await hass.config_entries.async_setup(store_entry.entry_id)
        registry = er.async_get(hass)
        await wait_for(
            hass,
            lambda: (
                registry.async_get_entity_id(
                    "button", DOMAIN, f"{store_entry.entry_id}_entrance_request_snapshot"
                )
                is not None
            ),
        )
        button = registry.async_get_entity_id(
            "button", DOMAIN, f"{store_entry.entry_id}_entrance_request_snapshot"
        )
        image = registry.async_get_entity_id(
            "image", DOMAIN, f"{store_entry.entry_id}_entrance_snapshot"
        )
        assert image is not None
        # Before its first snapshot the image has no picture link (no broken image in the app),
        # and the node, seen for the first time, is asked for one.
        assert "entity_picture" not in hass.states.get(image).attributes
        assert await hass.async_add_executor_job(commands.subscribed.wait, 10)
        await hass.async_add_executor_job(commands.wait, lambda: len(commands.messages) == 1)
        assert json.loads(commands.messages[0][1])["command"] == "snapshot"
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
        await hass.async_add_executor_job(commands.wait, lambda: len(commands.messages) == 2)
        request = json.loads(commands.messages[1][1])
        assert request["command"] == "snapshot"

        jpeg = _jpeg()
        reply = {
            "schema": 1,
            "id": request["id"],
            "ts": time.time(),
            "content_type": "image/jpeg",
            "width": 512,
            "height": 342,
            "people_pixelated": 2,
            "image": base64.b64encode(jpeg).decode(),
        }
        node.publish("snapshot", reply)
        hub = store_entry.runtime_data.hub
        await wait_for(hass, lambda: hub.nodes["entrance"].snapshot_jpeg is not None)
        assert await picture(image) == (jpeg, "image/jpeg")
        assert "entity_picture" in hass.states.get(image).attributes

        node.publish("snapshot", {**reply, "image": base64.b64encode(b"GIF89a").decode()})
        await wait_for(hass, lambda: hub.rejects.by_kind["snapshot"] == 1)
        assert (await picture(image))[0] == jpeg
    finally:
        commands.close()
