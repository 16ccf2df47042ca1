"""The demo's synthetic past: written into a real influxd once, then only the gap since."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from storefront_dev.demo_history import backfill
from storefront_dev.servers import Influxd

TZ = "Europe/Berlin"


def _count(influxd: Influxd, database: str, query: str) -> int:
    response = requests.get(f"{influxd.url}/query", params={"db": database, "q": query}, timeout=10)
    response.raise_for_status()
    result = response.json()["results"][0]
    assert "error" not in result, result
    series = result.get("series") or [{"values": [[0, 0]]}]
    return int(series[0]["values"][0][1])


def test_history_once_then_only_the_gap(influxd: Influxd, tmp_path: Path) -> None:
    database = "demo_history"
    requests.post(
        f"{influxd.url}/query", params={"q": f"CREATE DATABASE {database}"}, timeout=10
    ).raise_for_status()
    marker = tmp_path / "history.json"
    now = time.time()
    options = {"store": "Demo store", "nodes": 1, "days": 2, "timezone": TZ, "marker": marker}
    written, since = backfill(influxd.url, database, now=now, **options)
    assert since is not None
    assert now - since > 2 * 86400  # from local midnight two days back
    assert written > 1000
    minutes = _count(
        influxd, database, "SELECT count(people) FROM node_occupancy WHERE synthetic = 'true'"
    )
    assert minutes >= 2 * 24 * 60  # one sample a minute, every point tagged synthetic
    assert _count(influxd, database, "SELECT count(people) FROM node_occupancy") == minutes
    assert _count(influxd, database, "SELECT count(duration_s) FROM visit") > 0
    # The hourly rollups, as the export writes them, for the analyst app's long ranges.
    dwell = _count(influxd, database, "SELECT count(seconds) FROM dwell")
    assert dwell > 0
    assert _count(influxd, database, "SELECT sum(visits) FROM dwell_1h") == dwell
    readings = _count(influxd, database, "SELECT count(people) FROM occupancy")
    assert _count(influxd, database, "SELECT sum(readings) FROM occupancy_1h") == readings

    # Ten minutes later only those ten minutes are written; straight away, nothing.
    assert backfill(influxd.url, database, now=now + 1, **options) == (0, None)
    gap, gap_since = backfill(influxd.url, database, now=now + 600, **options)
    assert gap_since == pytest.approx(now)
    assert 0 < gap < written / 50


def test_influxdb_refusing_the_history_is_an_error(influxd: Influxd, tmp_path: Path) -> None:
    marker = tmp_path / "history.json"
    with pytest.raises(RuntimeError, match="refused the demo's history"):
        backfill(
            influxd.url,
            "no_such_database",
            store="Demo store",
            nodes=1,
            days=1,
            now=time.time(),
            timezone=TZ,
            marker=marker,
        )
    assert not marker.exists()  # nothing is marked as written
