"""The app as an analyst sees it: `streamlit run` in its own process, Debian's chromium driven by
playwright. The screenshot it takes goes to .run/screenshots/; `make screenshots` runs this test
to replace the one in the README (docs/images/) with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from storefront_dev.browser import chromium
from storefront_dev.servers import Influxd, free_port
from streamlit_app import formatting as fmt
from tests.streamlit import dataset

DATABASE = "streamlit_browser"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / ".run" / "screenshots" / "streamlit-overview.png"
README_IMAGE = ROOT / "docs" / "images" / SCREENSHOT.name
START_TIMEOUT_S = 60.0
RENDER_TIMEOUT_MS = 60_000


@pytest.fixture
def streamlit_server(
    influxd: Influxd, store_data: dataset.Dataset, tmp_path: Path
) -> Iterator[str]:
    """`streamlit run streamlit_app/app.py` on a free port; its address."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
    env |= {
        "STOREFRONT_INFLUX_URL": influxd.url,
        "STOREFRONT_INFLUX_DB": DATABASE,
        "STOREFRONT_TIMEZONE": dataset.TZ,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    log = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app" / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited: {(tmp_path / 'streamlit.log').read_text()}")
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass  # not listening yet, or too busy starting up to answer within the second
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not answer /_stcore/health in time")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_overview_in_a_real_browser(streamlit_server: str, store_data: dataset.Dataset) -> None:
    health = requests.get(f"{streamlit_server}/_stcore/health", timeout=5)
    assert (health.status_code, health.text) == (200, "ok")

    day = store_data.today - timedelta(days=1)
    mean, median = store_data.visit_mean_median(day)
    expected = [
        fmt.count(store_data.entries(day, day)),
        fmt.count(store_data.exits(day, day)),
        fmt.count(store_data.peak_occupancy(day)),
        fmt.duration(mean),
        fmt.duration(median),
    ]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
        page.goto(f"{streamlit_server}/?day={day.isoformat()}")
        values = page.locator('[data-testid="stMetricValue"]')
        values.nth(4).wait_for(timeout=RENDER_TIMEOUT_MS)
        # Vega draws the hourly bars as SVG paths inside the chart element.
        bars = page.locator('[data-testid="stVegaLiteChart"] svg .mark-rect path')
        bars.first.wait_for(state="attached", timeout=RENDER_TIMEOUT_MS)
        table = page.locator('[data-testid="stDataFrame"]')
        table.first.wait_for(timeout=RENDER_TIMEOUT_MS)
        assert [v.strip() for v in values.all_inner_texts()] == expected
        labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
        assert [label.strip() for label in labels] == [
            "Visitors",
            "Exits",
            "Peak occupancy",
            "Average visit",
            "Median visit",
        ]
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        for title in ("Overview", "Traffic", "Zones & dwell", "Personas", "Shelves"):
            assert title in nav
        assert bars.count() == 48  # 24 hours, the selected day and a week earlier
        assert page.locator('[data-testid="stException"]').count() == 0
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000
    if os.environ.get("STOREFRONT_UPDATE_SCREENSHOTS") == "1":
        README_IMAGE.write_bytes(SCREENSHOT.read_bytes())
