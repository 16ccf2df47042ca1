"""The Storefront panel as a shop owner uses it: a real Home Assistant (`hass -c`, set up as the
demo does), a real camera node on vtest.avi, the real mosquitto, Debian's chromium driven by
playwright. The owner draws a zone by clicking its corners and saves; a zero-length line is
refused with the node's reason; a node restart keeps the layout; a user who is not an
administrator gets neither the panel nor its commands.

A real `hass -c` rather than the pytest-homeassistant test server: the browser needs the real
frontend, its login and sidebar, and the panel's script served over HTTP, and a browser driven
from the test's own event loop would stall the Home Assistant it is looking at.

The screenshot goes to .run/screenshots/; `make screenshots` copies it into docs/images/."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from storefront_dev.browser import chromium
from storefront_dev.demo_ha import HomeAssistant
from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto
from tests import real_ha
from tests.edge.conftest import write_clip
from tests.real_ha import state_named, wait, ws_answers

ROOT = Path(__file__).resolve().parents[2]

SCREENSHOT = ROOT / ".run" / "screenshots" / "storefront-panel.png"
README_IMAGE = ROOT / "docs" / "images" / SCREENSHOT.name
UI_TIMEOUT_MS = 60_000
NODE_NAME = "Walkway camera"
HALL = [(0.04, 0.3), (0.96, 0.3), (0.96, 0.95), (0.04, 0.95)]  # where vtest's people walk
RESHAPED = (0.9, 0.9)  # where the owner drags the zone's third corner


def _number(state: str | None) -> float:
    """A sensor's state as a number; 0 while it is unknown or not there yet."""
    try:
        return float(state or 0)
    except ValueError:
        return 0.0


class Node:
    """`storefront-edge run` in its own process."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge_node", "run", "--config", str(self.config)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)


@pytest.fixture
def node(
    socket_enabled: None, mosquitto: Mosquitto, vtest_video: Path, tmp_path: Path
) -> Iterator[Node]:
    clip = write_clip(vtest_video, tmp_path / "fast.avi", 0, 400, 20.0)
    config = {
        "node_id": "walkway",
        "name": NODE_NAME,
        "camera": {"source": str(clip), "loop": True},
        "lines": [{"id": "door", "name": "Door", "start": [0.42, 0.0], "end": [0.42, 1.0]}],
        "mqtt": {"host": "127.0.0.1", "port": mosquitto.port, "state_interval_s": 2},
        "outbox": {"path": str(tmp_path / "node.db")},
    }
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(config))
    running = Node(path, tmp_path / "node.log")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def home_assistant(mosquitto: Mosquitto, node: Node, tmp_path: Path) -> Iterator[HomeAssistant]:
    """A real Home Assistant with the MQTT and Storefront entries, onboarded as the demo is."""
    with real_ha.home_assistant(tmp_path, mosquitto.port) as hass:
        yield hass.ha


def user_token(ha: HomeAssistant, username: str, *, admin: bool) -> str:
    """A long-lived token of a new user (an administrator or not), made as the owner would."""
    owner = ha.state["token"]
    password = "pass-" + username
    group = "system-admin" if admin else "system-users"
    created = asyncio.run(
        ws_answers(
            ha.url, owner, [{"type": "config/auth/create", "name": username, "group_ids": [group]}]
        )
    )[0]
    user_id = created["result"]["user"]["id"]
    credentials = {"user_id": user_id, "username": username, "password": password}
    command = {"type": "config/auth_provider/homeassistant/create", **credentials}
    assert asyncio.run(ws_answers(ha.url, owner, [command]))[0]["success"]
    other = HomeAssistant(ha.url, ha.state_file.with_name(f"{username}.json"))
    other.state = {"username": username, "password": password}
    return other.ensure_token()


def open_as(page: Page, url: str, token: str, path: str) -> None:
    """Open a page of the frontend logged in with `token` (as a saved login would be)."""
    tokens = {
        "hassUrl": url,
        "clientId": url + "/",
        "access_token": token,
        "refresh_token": "",
        "token_type": "Bearer",
        "expires_in": 315360000,
        "expires": int(time.time() * 1000) + 315360000 * 1000,
    }
    page.add_init_script(f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))});")
    page.goto(url + path)
    # Home Assistant asks once to confirm the HTTP settings it was started with.
    pending = page.locator("dialog-http-pending-config").get_by_role("button", name="Confirm")
    with contextlib.suppress(PlaywrightTimeout):  # confirmed before, or not asked of this user
        pending.click(timeout=10_000)
    page.wait_for_function(
        "() => { const h = document.querySelector('home-assistant');"
        " return h && h.hass && h.hass.panels && Object.keys(h.hass.panels).length > 0; }",
        timeout=UI_TIMEOUT_MS,
    )


def click_at(page: Page, x: float, y: float) -> None:
    """Click the snapshot at normalized (x, y)."""
    canvas = page.locator("storefront-panel [data-testid=canvas]")
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": x * box["width"], "y": y * box["height"]})


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press at normalized `start` on the snapshot, move to `end` and let go."""
    box = page.locator("storefront-panel [data-testid=canvas]").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=8)
    page.mouse.up()


def test_owner_draws_a_zone_in_the_panel_and_the_node_takes_it(
    home_assistant: HomeAssistant, node: Node, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    ha = home_assistant
    wait(lambda: state_named(ha, f"{NODE_NAME} People in view"), 90, "the node in HA")
    probe = Probe(mosquitto.port, topic="storefront/walkway/description", client_id="panel-probe")
    layout_file = tmp_path / "layout.yaml"
    assert probe.subscribed.wait(10)
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                open_as(page, ha.url, ha.state["token"], "/storefront")
                panel = page.locator("storefront-panel")
                # The node was asked for a snapshot when it was first seen: the picture is there.
                panel.locator("img:not([hidden])").wait_for(timeout=UI_TIMEOUT_MS)
                panel.locator("[data-testid=shape-door]").wait_for(state="attached")

                panel.locator("[data-testid=add-zone]").click()
                for x, y in HALL:
                    click_at(page, x, y)
                click_at(page, *HALL[0])  # back on the first corner closes the shape
                panel.locator("[data-testid=name]").fill("Hall")
                panel.locator("[data-testid=name]").press("Enter")
                drag(page, HALL[2], RESHAPED)  # the drawn zone is selected: reshape a corner
                panel.locator("[data-testid=item-door]").click()
                panel.locator("[data-testid=flip]").click()
                panel.locator("[data-testid=entrance]").uncheck()
                panel.locator("[data-testid=save]").click()
                status = panel.locator("[data-testid=status]")
                status.filter(has_text="Saved").wait_for(timeout=UI_TIMEOUT_MS)
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT))

                # The node describes the zone, HA makes its entity, and it counts people.
                description = json.loads(probe.last("walkway/description") or b"{}")
                assert [(z["id"], z["name"]) for z in description["zones"]] == [("zone_1", "Hall")]
                corner = description["zones"][0]["polygon"][2]
                assert corner == pytest.approx(list(RESHAPED), abs=0.01)
                door = description["lines"][0]
                assert (door["start"], door["end"], door["entrance"]) == (
                    [0.42, 1.0],
                    [0.42, 0.0],
                    False,
                )
                wait(
                    lambda: _number(state_named(ha, f"{NODE_NAME} Hall people")) >= 1,
                    90,
                    "people counted in the drawn zone",
                )
                saved = layout_file.read_text()
                assert "zone_1" in saved

                # A line of no length: the node's reason is shown, and it keeps its layout.
                panel.locator("[data-testid=add-line]").click()
                click_at(page, 0.5, 0.5)
                click_at(page, 0.5, 0.5)
                panel.locator("[data-testid=save]").click()
                refusal = status.filter(has_text="start and end are the same point")
                refusal.wait_for(timeout=UI_TIMEOUT_MS)
                assert "lines[1] 'line_2'" in status.inner_text()  # the door, then the new line
                assert layout_file.read_text() == saved
                now = json.loads(probe.last("walkway/description") or b"{}")
                assert (now["zones"], now["lines"]) == (description["zones"], description["lines"])
            except Exception:
                page.screenshot(path=str(tmp_path / "failure.png"))  # what the owner saw
                raise
    finally:
        probe.close()

    # A restart keeps the saved layout.
    node.stop()
    probe = Probe(mosquitto.port, topic="storefront/walkway/description", client_id="panel-probe2")
    try:
        assert probe.subscribed.wait(10)
        seen = len(probe.messages)  # the retained copy from before the restart
        node.start()
        wait(lambda: len(probe.messages) > seen, 60, "a description after the restart")
        restarted = json.loads(probe.messages[-1][1])
        assert [z["id"] for z in restarted["zones"]] == ["zone_1"]
        assert restarted["lines"][0]["start"] == [0.42, 1.0]  # the flipped door stays flipped
    finally:
        probe.close()
    if os.environ.get("STOREFRONT_UPDATE_SCREENSHOTS") == "1":
        README_IMAGE.write_bytes(SCREENSHOT.read_bytes())


def test_only_administrators_reach_the_panel_and_its_commands(
    home_assistant: HomeAssistant, node: Node
) -> None:
    ha = home_assistant
    wait(lambda: state_named(ha, f"{NODE_NAME} People in view"), 90, "the node in HA")
    admin = user_token(ha, "manager", admin=True)
    visitor = user_token(ha, "staff", admin=False)
    get = {"type": "storefront/layout/get"}
    answer = asyncio.run(ws_answers(ha.url, admin, [get, {"type": "get_panels"}]))
    assert answer[0]["success"] is True
    assert answer[1]["result"]["storefront"]["require_admin"] is True
    refused = asyncio.run(
        ws_answers(
            ha.url,
            visitor,
            [
                get,
                {"type": "storefront/snapshot/request", "entry_id": "x", "node_id": "walkway"},
                {"type": "get_panels"},
            ],
        )
    )
    assert [a["error"]["code"] for a in refused[:2]] == ["unauthorized", "unauthorized"]
    assert "storefront" not in refused[2]["result"]

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        open_as(page, ha.url, visitor, "/storefront")
        panels = page.evaluate(
            "() => Object.keys(document.querySelector('home-assistant').hass.panels)"
        )
        assert "storefront" not in panels
        assert "lovelace" in panels  # the frontend did load this user's panels
        assert page.locator("storefront-panel").count() == 0
