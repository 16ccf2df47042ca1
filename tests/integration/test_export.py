"""The InfluxDB export end to end: a real broker → the real integration → a real influxd (v1 API)
or VictoriaMetrics (v2 API). Points follow docs/data-model.md; an influxd that stops and comes
back — also across a Home Assistant restart — loses nothing."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.storefront.const import CONF_EXPORT, DOMAIN, EXPORT_UNREACHABLE_MINUTES
from custom_components.storefront.diagnostics import async_get_config_entry_diagnostics
from custom_components.storefront.hub import StoreHub
from storefront_dev.servers import Influxd, VictoriaMetrics
from tests.integration.conftest import NodePublisher, publish_until, wait_for
from tests.node_contract import EXAMPLES

DESCRIPTION = EXAMPLES["description"]
STATE = EXAMPLES["state"]
HEALTH = EXAMPLES["health"]
CROSSING = EXAMPLES["event_crossing"]
VISIT = EXAMPLES["event_visit"]
STREAM = "feed0000cafe1111"


@pytest.fixture
def own_influxd(tmp_path: Path) -> Iterator[Influxd]:
    """An influxd of this test alone: the test stops and restarts it."""
    server = Influxd(workdir=tmp_path / "influxd")
    server.workdir.mkdir()
    server.start()
    requests.post(f"{server.url}/query", params={"q": "CREATE DATABASE storefront"}, timeout=10)
    yield server
    server.stop()


def query(server: Influxd, q: str, db: str = "storefront") -> list[dict[str, Any]]:
    """Rows of an InfluxQL query as dicts (one list over all series, tags merged in)."""
    body = requests.get(f"{server.url}/query", params={"db": db, "q": q}, timeout=10).json()
    rows: list[dict[str, Any]] = []
    for series in body["results"][0].get("series", []):
        for values in series["values"]:
            rows.append(
                {**series.get("tags", {}), **dict(zip(series["columns"], values, strict=True))}
            )
    return rows


def crossing(seq: int, ts: float, direction: str = "in") -> dict[str, Any]:
    return {
        **CROSSING,
        "stream": STREAM,
        "seq": seq,
        "track": seq,
        "ts": ts,
        "direction": direction,
    }


async def _options(hass: HomeAssistant, entry: MockConfigEntry, step: str, data: dict) -> dict:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["step_id"] == step
    return await hass.config_entries.options.async_configure(result["flow_id"], data)


async def test_options_test_the_connection_before_saving(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    own_influxd: Influxd,
    victoria: VictoriaMetrics,
) -> None:
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    result = await _options(hass, store_entry, "influxdb_v1", {"url": "ftp://x", "database": "s"})
    assert result["errors"] == {"url": "invalid_url"}
    result = await _options(
        hass, store_entry, "influxdb_v1", {"url": "http://127.0.0.1:1", "database": "storefront"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert "unreachable" in result["description_placeholders"]["error"]
    result = await _options(
        hass, store_entry, "influxdb_v1", {"url": own_influxd.url, "database": "missing"}
    )
    assert result["errors"] == {"base": "not_found"}
    assert CONF_EXPORT not in store_entry.options

    result = await _options(
        hass, store_entry, "influxdb_v1", {"url": own_influxd.url, "database": "storefront"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert store_entry.options[CONF_EXPORT]["api"] == "v1"
    await hass.async_block_till_done()
    assert store_entry.runtime_data.hub.export is not None  # reloaded with the export on

    result = await _options(
        hass,
        store_entry,
        "influxdb_v2",
        {"url": victoria.url, "org": "shop", "bucket": "storefront", "token": "secret"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert store_entry.runtime_data.hub.export.target.api == "v2"
    diagnostics = await async_get_config_entry_diagnostics(hass, store_entry)
    assert "secret" not in json.dumps(diagnostics)
    assert victoria.url not in json.dumps(diagnostics)

    result = await hass.config_entries.options.async_init(store_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "export_off"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_EXPORT not in store_entry.options
    assert store_entry.runtime_data.hub.export is None


async def _exporting_store(
    hass: HomeAssistant, entry: MockConfigEntry, node: NodePublisher, influxd: Influxd
) -> tuple[StoreHub, list[int], float]:
    """The store set up with the export to `influxd`, its node described and online, and its
    first crossing (seq 1) heard: (the hub, the seqs heard so far and from now on, the time)."""
    hass.config_entries.async_update_entry(
        entry, options={CONF_EXPORT: {"api": "v1", "url": influxd.url, "database": "storefront"}}
    )
    now = time.time()
    node.publish("availability", "online", retain=True)
    node.publish("description", DESCRIPTION, retain=True)
    node.publish("state", {**STATE, "ts": now}, retain=True)
    assert await hass.config_entries.async_setup(entry.entry_id)
    hub = entry.runtime_data.hub
    heard: list[int] = []
    hub.async_add_event_listener(lambda _n, event: heard.append(event["seq"]))
    await publish_until(hass, node, lambda: heard, ("event/crossing", crossing(1, now + 1)))
    return hub, heard, now


async def test_broker_to_influxd_nothing_lost_across_outages_and_restarts(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    own_influxd: Influxd,
) -> None:
    hub, heard, now = await _exporting_store(hass, store_entry, node, own_influxd)
    writer = hub.export.writer
    node.publish("health", {**HEALTH, "ts": now + 2})
    node.publish("event/visit", {**VISIT, "stream": STREAM, "seq": 2, "ts": now + 3})
    await wait_for(hass, lambda: 2 in heard and hub.nodes["entrance"].health is not None)
    await writer.flush()

    # The documented schema, tagged with the store and the node.
    occupancy = query(own_influxd, 'SELECT * FROM "occupancy" GROUP BY *')
    assert {(r["zone"], r["people"]) for r in occupancy} == {("window", 1), ("counter", 2)}
    assert {r["store"] for r in occupancy} == {"Main Street"}
    assert {r["node"] for r in occupancy} == {"entrance"}
    assert query(own_influxd, 'SELECT "people" FROM "node_occupancy"')[0]["people"] == 3
    rows = query(own_influxd, 'SELECT * FROM "crossing" GROUP BY *')
    assert [(r["line"], r["direction"], r["count"], r["seq"]) for r in rows] == [
        ("door", "in", 1, 1)
    ]
    footfall = query(own_influxd, 'SELECT "in", "out" FROM "footfall" GROUP BY "line"')
    assert [(r["line"], r["in"], r["out"]) for r in footfall] == [("door", 42, 39)]
    dwell = query(own_influxd, 'SELECT "seconds" FROM "dwell" GROUP BY "zone"')
    assert {(r["zone"], r["seconds"]) for r in dwell} == {("window", 22.5), ("counter", 51.0)}
    visit = query(own_influxd, 'SELECT * FROM "visit" GROUP BY *')[0]
    assert (visit["persona"], visit["duration_s"], visit["zones_visited"]) == ("browser", 94.0, 2)
    assert visit["group_size"] == 1
    # Personas, shopping units, groups and staff (counted apart) from the state.
    personas = query(own_influxd, 'SELECT "visitors" FROM "personas" GROUP BY "persona"')
    assert {(r["persona"], r["visitors"]) for r in personas} == {
        ("passer_by", 12),
        ("browser", 20),
        ("focused_buyer", 8),
    }
    counters = query(own_influxd, 'SELECT * FROM "counters"')[0]
    assert (counters["visits"], counters["units"], counters["groups"]) == (40, 34, 5)
    assert counters["staff_visits"] == 3
    assert query(own_influxd, 'SELECT "staff" FROM "node_occupancy"')[0]["staff"] == 1
    by_zone = query(own_influxd, 'SELECT "seconds" FROM "dwell" GROUP BY "zone", "persona"')
    assert {(r["zone"], r["persona"]) for r in by_zone} == {
        ("window", "browser"),
        ("counter", "browser"),
    }
    health = query(own_influxd, 'SELECT * FROM "health"')[0]
    assert (health["fps"], health["queue_depth"], health["camera_ok"]) == (9.8, 0, True)
    assert query(own_influxd, 'SELECT "online" FROM "availability"')[0]["online"] is True

    # influxd goes away: the events keep coming, the export keeps them.
    own_influxd.stop()
    for seq in range(3, 103):
        node.publish("event/crossing", crossing(seq, now + seq), qos=1)
    await wait_for(hass, lambda: 102 in heard, within_s=20)
    await writer.flush()  # fails: the batch goes to disk
    assert writer.stats.unreachable_since is not None
    assert writer.pending >= 100
    diagnostics = await async_get_config_entry_diagnostics(hass, store_entry)
    assert diagnostics["export"]["buffered"] >= 100
    assert diagnostics["export"]["failures"] >= 1

    # A repair issue once it stays away beyond the limit.
    issues = ir.async_get(hass)
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(minutes=EXPORT_UNREACHABLE_MINUTES + 1)
    )
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, f"export_unreachable_{store_entry.entry_id}")

    # Home Assistant restarts while influxd is still away: the buffer is on disk.
    for seq in range(103, 113):
        node.publish("event/crossing", crossing(seq, now + seq), qos=1)
    await wait_for(hass, lambda: 112 in heard, within_s=20)
    assert await hass.config_entries.async_unload(store_entry.entry_id)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    writer = hub.export.writer
    assert writer.stats.spooled >= 110

    own_influxd.start()
    await writer.flush()
    assert writer.pending == 0
    seqs = [r["seq"] for r in query(own_influxd, 'SELECT "seq" FROM "crossing"')]
    assert seqs == [1, *range(3, 113)]  # every crossing once, in order (2 was the visit)
    assert writer.stats.dropped == 0
    # The hourly rollups, written on the way down, hold every zone reading so far once.
    rollup = query(
        own_influxd,
        'SELECT sum("people_sum") AS "sum", sum("readings") AS "n" FROM "occupancy_1h" '
        'GROUP BY "zone"',
    )
    readings = query(
        own_influxd,
        'SELECT sum("people") AS "sum", count("people") AS "n" FROM "occupancy" GROUP BY "zone"',
    )
    assert rollup == readings
    assert {r["zone"] for r in rollup} == {"window", "counter"}
    # So does the dwell rollup: the visit before the restart, once, with its bin.
    dwell_rollup = query(
        own_influxd,
        'SELECT sum("visits") AS "n", sum("seconds_sum") AS "sum" FROM "dwell_1h" GROUP BY "zone"',
    )
    dwell = query(
        own_influxd,
        'SELECT count("seconds") AS "n", sum("seconds") AS "sum" FROM "dwell" GROUP BY "zone"',
    )
    assert dwell_rollup == dwell
    assert {(r["zone"], r["n"]) for r in dwell_rollup} == {("window", 1), ("counter", 1)}
    bins = query(own_influxd, 'SELECT "bin_20", "bin_50" FROM "dwell_1h" GROUP BY "zone"')
    assert {(r["zone"], r["bin_20"], r["bin_50"]) for r in bins} == {
        ("window", 1, None),
        ("counter", None, 1),
    }
    assert issues.async_get_issue(DOMAIN, f"export_unreachable_{store_entry.entry_id}") is None


async def test_home_assistant_stopping_keeps_what_the_export_holds_in_memory(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    own_influxd: Influxd,
) -> None:
    """Home Assistant stops without unloading entries: the points the writer still holds in
    memory (here: while it waits out its backoff, the database being away) go to disk then,
    and reach InfluxDB after the next start."""
    hub, heard, now = await _exporting_store(hass, store_entry, node, own_influxd)
    writer = hub.export.writer
    await writer.flush()  # the first crossing is in the database

    # The database goes away; each failed write doubles the writer's pause, up to a minute
    # (at least 48 s with its jitter), in which new points wait in memory.
    own_influxd.stop()
    for _ in range(8):
        await writer.flush()
    for seq in range(2, 22):
        node.publish("event/crossing", crossing(seq, now + seq), qos=1)
    await wait_for(hass, lambda: 21 in heard, within_s=20)
    spool = hub.export.spool_path

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert writer.stopping
    with sqlite3.connect(spool) as db:
        on_disk = [line for (line,) in db.execute("SELECT line FROM spool")]
    assert sum(line.startswith("crossing,") for line in on_disk) == 20

    # The next start: the database is back and gets every crossing once.
    assert await hass.config_entries.async_unload(store_entry.entry_id)  # stops nothing twice
    own_influxd.start()
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    writer = store_entry.runtime_data.hub.export.writer
    await writer.flush()
    assert writer.pending == 0
    seqs = [r["seq"] for r in query(own_influxd, 'SELECT "seq" FROM "crossing"')]
    assert seqs == list(range(1, 22))


async def test_v2_write_path_into_victoria_metrics(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    node: NodePublisher,
    victoria: VictoriaMetrics,
) -> None:
    hass.config_entries.async_update_entry(
        store_entry,
        options={
            CONF_EXPORT: {
                "api": "v2",
                "url": victoria.url,
                "org": "shop",
                "bucket": "storefront",
                "token": "t0ken",
            }
        },
    )
    node.publish("availability", "online", retain=True)
    node.publish("description", {**DESCRIPTION, "node_id": "entrance"}, retain=True)
    node.publish("state", {**STATE, "ts": time.time()}, retain=True)
    assert await hass.config_entries.async_setup(store_entry.entry_id)
    hub = store_entry.runtime_data.hub
    await wait_for(hass, lambda: hub.nodes.get("entrance") and hub.nodes["entrance"].state)
    await hub.export.writer.flush()
    assert hub.export.writer.stats.written > 0
    await hass.async_add_executor_job(
        lambda: requests.get(f"{victoria.url}/internal/force_flush", timeout=10)
    )

    def series(
        match: str = '{__name__="occupancy_people",store="Main Street"}',
    ) -> list[dict[str, Any]]:
        text = requests.get(
            f"{victoria.url}/api/v1/export", params={"match[]": match}, timeout=10
        ).text
        return [json.loads(line) for line in text.splitlines() if line]

    found: list[dict[str, Any]] = []

    async def two_series() -> bool:
        found[:] = await hass.async_add_executor_job(series)
        return len(found) == 2

    for _ in range(100):
        if await two_series():
            break
        await hass.async_add_executor_job(time.sleep, 0.2)
    by_zone = {s["metric"]["zone"]: s["values"][-1] for s in found}
    assert by_zone == {"window": 1, "counter": 2}

    # A visit, and its hourly dwell rollup written when the export stops, through the v2 API.
    heard: list[int] = []
    hub.async_add_event_listener(lambda _n, event: heard.append(event["seq"]))
    visit = {**VISIT, "stream": STREAM, "seq": 2, "ts": time.time()}
    for _ in range(40):  # subscriptions settle a moment after set-up
        node.publish("event/visit", visit)
        await hass.async_block_till_done()
        if heard:
            break
        await hass.async_add_executor_job(time.sleep, 0.1)
    assert await hass.config_entries.async_unload(store_entry.entry_id)
    rolled: list[dict[str, Any]] = []
    for _ in range(100):
        await hass.async_add_executor_job(
            lambda: requests.get(f"{victoria.url}/internal/force_flush", timeout=10)
        )
        rolled = await hass.async_add_executor_job(series, '{__name__=~"dwell_1h_.*"}')
        if len(rolled) == 6:
            break
        await hass.async_add_executor_job(time.sleep, 0.2)
    assert {(s["metric"]["__name__"], s["metric"]["zone"], s["values"][-1]) for s in rolled} == {
        ("dwell_1h_visits", "window", 1),
        ("dwell_1h_seconds_sum", "window", 22.5),
        ("dwell_1h_bin_20", "window", 1),
        ("dwell_1h_visits", "counter", 1),
        ("dwell_1h_seconds_sum", "counter", 51.0),
        ("dwell_1h_bin_50", "counter", 1),
    }


async def test_options_name_refused_credentials(
    hass: HomeAssistant, store_entry: MockConfigEntry, node: NodePublisher, tmp_path: Path
) -> None:
    server = Influxd(workdir=tmp_path / "auth", auth=True)
    server.workdir.mkdir()
    server.start()
    try:
        for q in (
            "CREATE USER admin WITH PASSWORD 'right' WITH ALL PRIVILEGES",
            "CREATE DATABASE storefront",
        ):
            await hass.async_add_executor_job(
                lambda q=q: requests.post(
                    f"{server.url}/query", params={"q": q, "u": "admin", "p": "right"}, timeout=10
                )
            )
        assert await hass.config_entries.async_setup(store_entry.entry_id)
        v1 = {"url": server.url, "database": "storefront", "username": "admin"}
        result = await _options(hass, store_entry, "influxdb_v1", {**v1, "password": "wrong"})
        assert result["errors"] == {"base": "invalid_auth"}
        assert "credentials" in result["description_placeholders"]["error"]
        result = await _options(hass, store_entry, "influxdb_v1", {**v1, "password": "right"})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert store_entry.runtime_data.hub.export.target.password == "right"
    finally:
        server.stop()
