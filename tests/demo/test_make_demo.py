"""`make demo` end to end: every part comes up on 127.0.0.1, the camera node's counts reach Home
Assistant and InfluxDB, the analyst app answers, and `make stop` leaves nothing running.

The demo runs detached in a run directory of the test's own (`STOREFRONT_RUN_DIR`), on ports it
finds free, so a demo the user has running is not disturbed. It takes about a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from storefront_dev.demo_ha import numeric_state, people_in_view

ROOT = Path(__file__).resolve().parents[2]

KEYS = {
    "ha_url",
    "ha_token",
    "ha_user",
    "ha_password",
    "streamlit_url",
    "influx_url",
    "influx_db",
    "mqtt_host",
    "mqtt_port",
    "screen_urls",
}


def _alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie waiting to be collected has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _eventually(probe: Callable[[], Any], what: str, within_s: float = 90.0) -> Any:
    """Poll until `probe` returns something truthy; fail naming `what` after `within_s`."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            value = probe()
        except requests.RequestException:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not seen in time: {what}")
        time.sleep(1)


def _states(info: dict[str, Any]) -> list[dict[str, Any]]:
    """What Home Assistant's REST API shows, read with the demo's token."""
    response = requests.get(
        f"{info['ha_url']}/api/states",
        headers={"Authorization": f"Bearer {info['ha_token']}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json())


def _people_in_view(info: dict[str, Any], device: str) -> float | None:
    return people_in_view(_states(info), device)


def _run(
    command: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _influx_count(info: dict[str, Any], where: str) -> int:
    response = requests.get(
        f"{info['influx_url']}/query",
        params={"db": info["influx_db"], "q": f"SELECT count(people) FROM node_occupancy {where}"},
        timeout=10,
    )
    response.raise_for_status()
    series = response.json()["results"][0].get("series") or [{"values": [[0, 0]]}]
    return int(series[0]["values"][0][1])


@pytest.mark.timeout(360)
def _select_of(info: dict[str, Any], display: str) -> str | None:
    """The offer a display's select has on screen, read over the API with the demo's token."""
    response = requests.get(
        f"{info['ha_url']}/api/states",
        headers={"Authorization": f"Bearer {info['ha_token']}"},
        timeout=10,
    )
    response.raise_for_status()
    return next(
        s["state"]
        for s in response.json()
        if s["entity_id"].startswith("select.") and s["attributes"].get("display") == display
    )


def _screen_matches_select(info: dict[str, Any], display: str, url: str) -> bool:
    """The page's content is the select's offer (read between two equal select readings,
    as the policy may change the offer in between)."""
    path, query = url.split("?")
    before = _select_of(info, display)
    shown = requests.get(f"{path}/content?{query}", timeout=10).json()
    return before is not None and before == shown["title"] == _select_of(info, display)


def test_make_demo_brings_up_the_whole_system_and_make_stop_ends_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "STOREFRONT_RUN_DIR": str(run)}
    demo = _run(["make", "--no-print-directory", "demo", "DETACH=1", "SIMULATE=1"], env, 240)
    pids: list[int] = []
    try:
        assert demo.returncode == 0, demo.stdout + demo.stderr
        info = json.loads((run / "demo.json").read_text())
        assert set(info) == KEYS
        assert info["ha_password"] in demo.stdout
        assert info["ha_url"] in demo.stdout
        # The synthetic node's past week is there before anything live arrives.
        assert _influx_count(info, "WHERE synthetic = 'true' AND time < now() - 6d") > 0
        pids = [int(pid) for pid in (run / "demo.pids").read_text().split()]
        # broker, influxd, Home Assistant, entrance node, shelf node, simulator, app
        assert len(pids) == 7
        assert all(_alive(pid) for pid in pids)

        # Home Assistant shows the camera node's people count (from vtest.avi) and the
        # synthetic node's, read with the token the demo made.
        people = _eventually(
            lambda: _people_in_view(info, "Entrance camera") is not None,
            "the camera node's people count in Home Assistant",
        )
        assert people
        _eventually(
            lambda: _people_in_view(info, "Synthetic shop entrance 1") is not None,
            "the synthetic node in Home Assistant",
        )
        # The shelf camera runs the real pipeline on the composed shelf clip: its shelf's stock
        # level is in Home Assistant (100 % when the node starts, as it saw it).
        shelf = "Shelf camera Shelf stock"
        _eventually(
            lambda: numeric_state(_states(info), shelf) is not None,
            "the shelf camera's stock level in Home Assistant",
        )
        level = numeric_state(_states(info), shelf)
        assert level is not None
        assert 0 <= level <= 100
        # The export writes both into InfluxDB; simulated points are tagged so.
        _eventually(
            lambda: _influx_count(info, "WHERE node = 'entrance'") > 0,
            "the camera node's occupancy in InfluxDB",
        )
        _eventually(
            lambda: _influx_count(info, "WHERE synthetic = 'true'") > 0,
            "the synthetic node's occupancy in InfluxDB",
        )
        # Each display's screen page answers without a login, showing its select's offer.
        assert "window_display" in info["screen_urls"]
        for display, url in info["screen_urls"].items():
            assert url in demo.stdout
            assert requests.get(url, timeout=10).status_code == 200
            _eventually(
                lambda d=display, u=url: _screen_matches_select(info, d, u),
                f"the {display} screen showing its select's offer",
            )
        health = requests.get(f"{info['streamlit_url']}/_stcore/health", timeout=10)
        assert health.status_code == 200
        assert health.text == "ok"

        # A second `make demo` while this one runs says so and starts nothing.
        again = _run(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "storefront_dev.demo", "--detach"],
            env,
            60,
        )
        assert again.returncode == 0
        assert "already running" in again.stdout
        assert [int(p) for p in (run / "demo.pids").read_text().split()] == pids
    finally:
        stop = _run(["make", "--no-print-directory", "stop"], env, 120)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert "demo stopped" in stop.stdout
    assert [pid for pid in pids if _alive(pid)] == []
    assert not (run / "demo.pids").exists()
