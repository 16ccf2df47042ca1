"""A real Home Assistant process (`hass -c`) for the tests that need the whole of it: its real
frontend and login (the panel), or a real stop and start (what is kept across a restart).

The configuration is the demo's (`storefront_dev.demo_ha.write_config`): the integration linked
in, MQTT on the test's mosquitto, onboarding done through the REST API as the demo does it, the
Storefront entry added. Stopping sends SIGTERM, as a service manager does: Home Assistant then
fires its stop and final-write events and unloads no config entry.

The pytest-homeassistant test harness cannot do this: a browser driven from the test's own event
loop would stall the Home Assistant it looks at, and its `hass` is never stopped and started."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from storefront_dev.demo_ha import HomeAssistant, write_config
from storefront_dev.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
TIMEZONE = "Europe/London"


def wait(condition: Callable[[], Any], within_s: float, what: str) -> Any:
    """The first true value of `condition()`, polled four times a second; fails after
    `within_s` saying `what` did not happen."""
    deadline = time.monotonic() + within_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"not in {within_s:.0f} s: {what}")
        time.sleep(0.25)
    return value


class HassProcess:
    """`hass -c` on a generated configuration directory, started and stopped on demand."""

    def __init__(self, config_dir: Path, log: Path) -> None:
        self.config_dir = config_dir
        self.log = log
        port = free_port()
        write_config(config_dir, port, ROOT / "custom_components" / "storefront", TIMEZONE)
        self.ha = HomeAssistant(f"http://127.0.0.1:{port}", config_dir / "credentials.json")
        self.process: subprocess.Popen[bytes] | None = None
        self.entry_id = ""  # the Storefront entry's, once set_up ran

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def start(self) -> None:
        """Start Home Assistant and wait until its HTTP server answers."""
        hass_bin = Path(sys.executable).parent / "hass"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(hass_bin), "-c", str(self.config_dir), "--skip-pip"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process = self.process
        wait(lambda: process.poll() is not None or self.ha.up(), START_TIMEOUT_S, "hass answering")
        assert process.poll() is None, self.log_tail()

    def stop(self) -> int | None:
        """SIGTERM, and its exit code once Home Assistant stopped by itself; None when it had to
        be killed (it did not stop within STOP_TIMEOUT_S) or was not running."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None

    def set_up(self, mqtt_port: int, store_name: str = "Corner shop") -> None:
        """The owner, a token, the MQTT entry on the test's broker and the Storefront entry."""
        self.ha.onboard()
        self.ha.ensure_token()
        self.ha.ensure_mqtt(mqtt_port)
        self.entry_id = self.ha.ensure_store(store_name, "storefront")


@contextmanager
def home_assistant(tmp_path: Path, mqtt_port: int) -> Iterator[HassProcess]:
    """A running Home Assistant set up with the store, stopped (SIGTERM) afterwards."""
    hass = HassProcess(tmp_path / "ha", tmp_path / "hass.log")
    try:
        hass.start()
        hass.set_up(mqtt_port)
        yield hass
    finally:
        hass.stop()


def state_named(ha: HomeAssistant, name: str) -> str | None:
    """The state of the entity whose friendly name is `name`, if there is one."""
    for state in ha.states():
        if state["attributes"].get("friendly_name") == name:
            return str(state["state"])
    return None


async def ws_answers(url: str, token: str, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each websocket command's full answer (success or error), over one session."""
    answers = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for number, command in enumerate(commands, start=1):
            await ws.send_json({"id": number, **command})
            answers.append(await ws.receive_json())
    return answers
