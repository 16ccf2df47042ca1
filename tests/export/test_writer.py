"""The export's building blocks against a real influxd: line protocol as documented, the writer's
order and bounds, malformed points that must not block the rest, the on-disk spool."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import requests

from custom_components.storefront import contract, points
from custom_components.storefront.influx import InfluxTarget
from custom_components.storefront.points import PointMaker, line
from custom_components.storefront.spool import Spool
from custom_components.storefront.writer import InfluxWriter
from edge_node import messages
from storefront_dev.servers import Influxd
from tests.node_contract import EXAMPLES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def shelf_messages() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A state with stock per product and two shelf changes, built as the camera node builds
    them, and checked against the contract."""
    stock = {
        "coffee": {
            "level": 0.5,
            "status": "ok",
            "taken": 3,
            "returned": 1,
            "products": {
                "espresso": {"level": 0.25, "status": "low"},
                "decaf": {"level": 0.75, "status": "ok"},
            },
        }
    }
    state = contract.parse("state", json.dumps({**EXAMPLES["state"], "stock": stock}))
    changes = [
        messages.shelf("coffee", "taken", 0.25, "espresso", 511, magnitude=0.5, count=2),
        messages.shelf("coffee", "low", 0.25, "espresso", None, magnitude=0.0, count=0),
    ]
    events = [
        contract.parse(
            "event_shelf",
            messages.encode(
                messages.event("9f2c41d07a3b5e68", seq, 1795380000.0 + seq, "shelf", c)
            ),
        )
        for seq, c in enumerate(changes, 1)
    ]
    return dict(state), [dict(e) for e in events]


def database(influxd: Influxd, name: str) -> InfluxTarget:
    requests.post(f"{influxd.url}/query", params={"q": f"DROP DATABASE {name}"}, timeout=10)
    requests.post(f"{influxd.url}/query", params={"q": f"CREATE DATABASE {name}"}, timeout=10)
    return InfluxTarget(influxd.url, database=name)


def query(influxd: Influxd, db: str, q: str) -> list[list[Any]]:
    body = requests.get(f"{influxd.url}/query", params={"db": db, "q": q}, timeout=10).json()
    series = body["results"][0].get("series", [])
    return [values for s in series for values in s["values"]]


def test_line_protocol_escapes_and_types() -> None:
    text = line(
        "m x", {"store": "Main St, =1", "empty": "", "none": None}, {"a b": 1, "s": 'q"\\'}, 5
    )
    assert text == 'm\\ x,store=Main\\ St\\,\\ \\=1 a\\ b=1i,s="q\\"\\\\" 5'
    assert line("m", {}, {"f": float("nan"), "g": None}, 1) is None
    assert line("m", {}, {"t": True, "x": 1.0}, 1) == "m t=true,x=1.0 1"


def test_numbers_beyond_influxdb_are_left_out_not_raised() -> None:
    assert line("m", {}, {"big": 2**63, "ok": 2**63 - 1}, 1) == f"m ok={2**63 - 1}i 1"
    health = {**EXAMPLES["health"], "rss_mb": 10**400}
    (point,) = PointMaker("Main Street").health("entrance", health)
    assert "rss_mb" not in point


def test_every_measurement_is_documented_with_its_fields() -> None:
    """The reference table in docs/data-model.md names each measurement the code writes, and
    every field and tag it writes from the contract's examples."""
    doc = DOCS.read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \|(.*)$", doc, re.M))
    assert set(points.MEASUREMENTS) <= set(rows)
    maker = PointMaker("Main Street")
    shelf_state, shelf_events = shelf_messages()
    lines = maker.state("entrance", shelf_state)
    lines += maker.health("entrance", EXAMPLES["health"])
    lines += maker.availability("entrance", True, 1.0)
    for kind in ("event_crossing", "event_visit", "event_shelf", "event_impression"):
        lines += maker.event("entrance", EXAMPLES[kind])
    lines += maker.event("entrance", shelf_events[0])
    lines += maker.rollup()
    lines += maker.offer_shown("entrance", "window_display", "sale", propensity=0.5, ts=1.0)
    lines += maker.offer_impression(
        "entrance", EXAMPLES["event_impression"], "sale", {"evening"},
        persona="browser", part_of_day="evening", engaged=True,
    )  # fmt: skip
    written = {text.split(",", 1)[0] for text in lines}
    assert written == set(points.MEASUREMENTS)
    for text in lines:
        head, fields, _ns = text.rsplit(" ", 2)
        measurement, *tags = head.split(",")
        for key in [t.split("=")[0] for t in tags] + [f.split("=")[0] for f in fields.split(",")]:
            if key not in ("store", "node"):
                assert f"`{key}`" in rows[measurement], f"{measurement}.{key} is not documented"


async def test_points_land_with_one_type_per_field(influxd: Influxd, tmp_path: Path) -> None:
    target = database(influxd, "writer_types")
    maker = PointMaker("Main Street")
    state = {**EXAMPLES["state"], "counters": {**EXAMPLES["state"]["counters"]}}
    visit_int = {**EXAMPLES["event_visit"], "duration_s": 12, "seq": 5}  # 12 for 12.0
    async with aiohttp.ClientSession() as session:
        writer = InfluxWriter(session, target, Spool(tmp_path / "s.db", 10))
        writer.add(maker.state("entrance", state))
        writer.add(maker.event("entrance", EXAMPLES["event_visit"]))
        writer.add(maker.event("entrance", visit_int))
        await writer.flush()
    assert writer.stats.refused == 0
    assert writer.stats.written > 0
    rows = query(influxd, "writer_types", 'SELECT "duration_s" FROM "visit"')
    assert sorted(row[1] for row in rows) == [12.0, 94.0]  # a float field accepted 12


async def test_shelf_stock_and_changes_land_per_product(influxd: Influxd, tmp_path: Path) -> None:
    """What a camera node publishes about a shelf: its level and each product's, and every
    change with the product and how many facings moved."""
    target = database(influxd, "writer_shelves")
    maker = PointMaker("Main Street")
    state, events = shelf_messages()
    async with aiohttp.ClientSession() as session:
        writer = InfluxWriter(session, target, Spool(tmp_path / "s.db", 10))
        writer.add(maker.state("entrance", state))
        for event in events:
            writer.add(maker.event("entrance", event))
        await writer.flush()
    assert writer.stats.refused == 0
    shelf = query(influxd, "writer_shelves", 'SELECT "level", "status", "taken" FROM "stock"')
    assert [row[1:] for row in shelf] == [[0.5, "ok", 3]]
    products = query(
        influxd,
        "writer_shelves",
        """SELECT "level", "status" FROM "product_stock" WHERE "shelf" = 'coffee' """
        'GROUP BY "product"',
    )
    assert sorted(row[1:] for row in products) == [[0.25, "low"], [0.75, "ok"]]
    changes = query(
        influxd,
        "writer_shelves",
        'SELECT "count", "facings", "magnitude", "change", "product" FROM "shelf"',
    )
    assert [row[1:] for row in changes] == [
        [1, 2, 0.5, "taken", "espresso"],
        [1, 0, 0.0, "low", "espresso"],
    ]


async def test_malformed_points_are_refused_without_blocking_the_rest(
    influxd: Influxd, tmp_path: Path
) -> None:
    target = database(influxd, "writer_refused")
    async with aiohttp.ClientSession() as session:
        writer = InfluxWriter(session, target, Spool(tmp_path / "s.db", 100), batch_size=2)
        writer.add(["m f=1i 1", "m f=2i 2"])
        writer.add(["m f=1.5 3", "m f=4i 4"])  # 1.5 conflicts with the integer field
        writer.add(["m f=5i 5"])
        await writer.flush()
    assert writer.stats.refused == 2
    assert writer.pending == 0
    values = [row[1] for row in query(influxd, "writer_refused", 'SELECT "f" FROM "m"')]
    assert values == [1, 2, 4, 5]  # the valid point of the refused batch was kept


async def test_points_wait_on_disk_in_order_and_the_oldest_go_beyond_the_bound(
    tmp_path: Path,
) -> None:
    influxd = Influxd(workdir=tmp_path / "influxd")
    influxd.workdir.mkdir()
    target = InfluxTarget(influxd.url, database="writer_spool")
    spool = Spool(tmp_path / "spool.db", max_points=50)
    async with aiohttp.ClientSession() as session:
        writer = InfluxWriter(session, target, spool, batch_size=10, memory_limit=20)
        await writer.start()
        writer.add([f"m f={i}i {i}" for i in range(30)])
        await writer.flush()  # nobody answers: everything goes to disk
        assert writer.stats.spooled == 30
        assert writer.stats.unreachable_since is not None
        writer.add([f"m f={i}i {i}" for i in range(30, 60)])
        await writer.stop()  # still nobody: memory joins the spool
        assert spool.count() == 50
        assert writer.stats.dropped == 10
        spool.close()

        # A new writer (after a restart) finds the spool and writes it once the server is up.
        influxd.start()
        try:
            database(influxd, "writer_spool")
            spool = Spool(tmp_path / "spool.db", max_points=50)
            writer = InfluxWriter(session, target, spool, batch_size=10)
            await writer.start()
            assert writer.pending == 50
            writer.add(["m f=60i 60"])
            await writer.flush()
            assert writer.pending == 0
            await writer.stop()
            values = [row[1] for row in query(influxd, "writer_spool", 'SELECT "f" FROM "m"')]
            assert values == list(range(10, 61))
        finally:
            influxd.stop()
