"""The hourly occupancy rollup against a real influxd: its sums and counts give exactly the
mean of the minute readings, however unevenly they fall; nothing is counted twice or lost."""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import aiohttp
import pytest
import requests

from custom_components.storefront.influx import InfluxTarget, write_lines
from custom_components.storefront.points import PointMaker
from custom_components.storefront.rollup import SLOT_S
from storefront_dev.servers import Influxd

HOUR = 1_795_996_800.0  # a round hour (a slot start), 2026-11-30 in UTC, and of 4 hours too
SLOTS = 4 * SLOT_S  # the buckets compared below


def reading(maker: PointMaker, step: float, people: int) -> list[str]:
    """One zone's head count `step` fifteenths of a slot after HOUR (slot 0: steps 0 to 14)."""
    occupancy = {"total": people, "zones": {"window": people}}
    return maker.occupancy("entrance", {"occupancy": occupancy}, HOUR + step * SLOT_S / 15)


def state(ts: float, **zones: int) -> dict[str, Any]:
    return {"ts": ts, "occupancy": {"total": sum(zones.values()), "zones": zones}}


def fill(influxd: Influxd, database: str, lines: list[str]) -> None:
    requests.post(f"{influxd.url}/query", params={"q": f"DROP DATABASE {database}"}, timeout=10)
    requests.post(f"{influxd.url}/query", params={"q": f"CREATE DATABASE {database}"}, timeout=10)

    async def send() -> None:
        async with aiohttp.ClientSession() as session:
            await write_lines(session, InfluxTarget(influxd.url, database=database), lines)

    asyncio.run(send())


def rows(influxd: Influxd, database: str, q: str) -> list[list[Any]]:
    params = {"db": database, "q": q}
    body = requests.get(f"{influxd.url}/query", params=params, timeout=10).json()
    return [v for s in body["results"][0].get("series", []) for v in s["values"]]


def test_rollup_means_equal_the_readings_mean_however_uneven(influxd: Influxd) -> None:
    maker = PointMaker("Main Street")
    lines: list[str] = []
    # Uneven readings: a state burst in the first slot, regular samples later, none at all in
    # the third slot, one reading written twice at one time (InfluxDB keeps the last).
    for step, people in [(0, 1), (0.1, 9), (0.2, 8), (0.3, 7), (5, 2), (14, 0)]:
        lines += reading(maker, step, people)
    for step in range(15, 30):
        lines += reading(maker, step, step % 4)
    lines += reading(maker, 20, 3)  # the same time again, another value
    lines += reading(maker, 50, 6)
    # A late reading, after its slot was written; then Home Assistant restarts mid-slot.
    lines += reading(maker, 10, 4)
    lines += maker.rollup()
    restarted = PointMaker("Main Street")
    lines += reading(restarted, 55, 11)
    lines += reading(restarted, 65, 5)
    lines += restarted.rollup()
    fill(influxd, "rollup_mean", lines)

    span = f"time >= {int(HOUR)}s AND time < {int(HOUR) + 2 * SLOTS}s"
    readings = rows(
        influxd,
        "rollup_mean",
        f'SELECT mean("people"), count("people") FROM "occupancy" WHERE {span} GROUP BY time(4h)',
    )
    rollup = rows(
        influxd,
        "rollup_mean",
        'SELECT sum("people_sum") / sum("readings"), sum("readings") FROM "occupancy_1h" '
        f"WHERE {span} GROUP BY time(4h)",
    )
    assert [r[2] for r in readings] == [24, 1]
    assert rollup == readings  # mean and count of every bucket, to the last digit
    slots = rows(
        influxd,
        "rollup_mean",
        'SELECT sum("people_sum") / sum("readings") FROM "occupancy_1h" '
        f"WHERE {span} GROUP BY time(1h) fill(none)",
    )
    # The readings are uneven enough that an average of the slots' averages would be wrong.
    assert statistics.mean(r[1] for r in slots[:3]) != pytest.approx(readings[0][1])


def test_a_retained_state_delivered_again_counts_once(influxd: Influxd) -> None:
    maker = PointMaker("Main Street")
    lines = maker.state("entrance", state(HOUR + 60, window=2, counter=1))
    lines += maker.state("entrance", state(HOUR + 120, window=4, counter=1))
    lines += maker.rollup(HOUR + SLOT_S)
    lines += maker.state("entrance", state(HOUR + 60, window=2, counter=1))  # a reconnect
    lines += maker.rollup()
    fill(influxd, "rollup_again", lines)
    found = rows(
        influxd,
        "rollup_again",
        'SELECT sum("people_sum"), sum("readings") FROM "occupancy_1h" GROUP BY "zone"',
    )
    assert [r[1:] for r in found] == [[2, 2], [6, 2]]  # counter, window


def test_a_quiet_nodes_slot_is_written_once_it_has_ended() -> None:
    maker = PointMaker("Main Street")
    reading(maker, 1, 2)
    assert maker.rollup(HOUR + SLOT_S - 1) == []  # the slot is still running
    (written,) = maker.rollup(HOUR + SLOT_S)
    assert written.startswith("occupancy_1h,node=entrance,store=Main\\ Street,zone=window ")
    assert "people_sum=2i,readings=1i" in written
    ns = int(written.rsplit(" ", 1)[1])
    assert HOUR * 1e9 <= ns < (HOUR + SLOT_S) * 1e9
    assert maker.rollup() == []
