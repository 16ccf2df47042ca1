"""The hourly rollups against a real influxd: occupancy sums and counts give exactly the mean
of the minute readings, however unevenly they fall; dwell counts, sums and bin counts are
exactly those of the dwell points; nothing is counted twice or lost."""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import aiohttp
import pytest
import requests

from custom_components.storefront.influx import InfluxTarget, write_lines
from custom_components.storefront.points import PointMaker
from custom_components.storefront.rollup import DWELL_EDGES, SLOT_S, dwell_bin
from storefront_dev.servers import Influxd

HOUR = 1_795_996_800.0  # a round hour (a slot start), 2026-11-30 in UTC, and of 4 hours too
SLOTS = 4 * SLOT_S  # the buckets compared below


def reading(maker: PointMaker, step: float, people: int) -> list[str]:
    """One zone's head count `step` fifteenths of a slot after HOUR (slot 0: steps 0 to 14)."""
    occupancy = {"total": people, "zones": {"window": people}}
    return maker.occupancy("entrance", {"occupancy": occupancy}, HOUR + step * SLOT_S / 15)


def visit(seq: int, ts: float, persona: str | None = "browser", **zones: float) -> dict[str, Any]:
    """A visit summary through `zones` (dwell seconds), ending at `ts`."""
    return {"seq": seq, "ts": ts, "type": "visit", "duration_s": 1.0 + sum(zones.values()),
            "zones": zones, "group_size": 1, "persona": persona}  # fmt: skip


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


def test_dwell_rollup_counts_sums_and_bins_are_those_of_the_dwell_points(influxd: Influxd) -> None:
    maker = PointMaker("Main Street")
    lines: list[str] = []
    # Dwell times on bin edges, between them, beyond the last edge; visits spread unevenly over
    # three hours; one visit without a persona.
    spread = [0.0, 1.9, 2.0, 9.99, 10.0, 22.5, 51.0, 59.9, 60.0, 601.5, 7200.0, 9999.0]
    for seq, seconds in enumerate(spread, 1):
        lines += maker.event("entrance", visit(seq, HOUR + 40 * seq, window=seconds))
    lines += maker.event("entrance", visit(20, HOUR + SLOT_S + 5, window=33.3, counter=4.0))
    lines += maker.event("entrance", visit(21, HOUR + SLOT_S + 9, None, window=12.0))
    # The same visit twice (one point in InfluxDB), a late one after its hour was written.
    lines += maker.event("entrance", visit(22, HOUR + 2 * SLOT_S + 1, counter=70.0))
    lines += maker.event("entrance", visit(22, HOUR + 2 * SLOT_S + 1, counter=70.0))
    lines += maker.event("entrance", visit(23, HOUR + 100, window=3.5))
    lines += maker.rollup()
    # Home Assistant restarts in the middle of an hour: the rest of that hour is a new point.
    restarted = PointMaker("Main Street")
    lines += restarted.event("entrance", visit(24, HOUR + 2 * SLOT_S + 600, counter=300.0))
    lines += restarted.rollup()
    fill(influxd, "rollup_dwell", lines)

    def per_zone(q: str) -> dict[str, list[Any]]:
        params = {"db": "rollup_dwell", "q": q}
        body = requests.get(f"{influxd.url}/query", params=params, timeout=10).json()
        series = body["results"][0].get("series", [])
        return {s["tags"]["zone"]: s["values"][0][1:] for s in series}

    rolled = per_zone(
        'SELECT sum("visits"), sum("seconds_sum") FROM "dwell_1h" WHERE time > 0 '
        'GROUP BY "zone", time(3h) fill(none)'
    )
    raw = per_zone(
        'SELECT count("seconds"), sum("seconds") FROM "dwell" WHERE time > 0 '
        'GROUP BY "zone", time(3h) fill(none)'
    )
    assert rolled == raw
    assert rolled["window"][0] == len(spread) + 3
    assert rolled["counter"][0] == 3
    fields = ", ".join(f'sum("bin_{edge}")' for edge in DWELL_EDGES)
    bins = per_zone(f'SELECT {fields} FROM "dwell_1h" WHERE time > 0 GROUP BY "zone"')
    for zone, counts in bins.items():
        for lower, upper, count in zip(DWELL_EDGES, [*DWELL_EDGES[1:], 1e9], counts, strict=True):
            (n,) = per_zone(
                f'SELECT count("seconds") FROM "dwell" WHERE "zone" = \'{zone}\' AND '
                f'"seconds" >= {lower} AND "seconds" < {upper} AND time > 0 GROUP BY "zone"'
            ).get(zone, [None])
            assert (count or 0) == (n or 0), (zone, lower)
    # One point per zone and hour (window: two, counter: two), and one more each for the
    # late visit's hour (window) and the hour of the restart (counter).
    hours = per_zone('SELECT count("visits") FROM "dwell_1h" WHERE time > 0 GROUP BY "zone"')
    assert hours == {"window": [2 + 1], "counter": [2 + 1]}


def test_a_dwell_slot_is_written_once_its_hour_has_ended() -> None:
    maker = PointMaker("Main Street")
    assert maker.event("entrance", visit(1, HOUR + 5, window=22.5, counter=51.0))
    assert maker.rollup(HOUR + SLOT_S - 1) == []
    written = sorted(text for text in maker.rollup(HOUR + SLOT_S) if text.startswith("dwell_1h"))
    assert [text.rsplit(" ", 2)[1] for text in written] == [
        "visits=1i,seconds_sum=51.0,bin_50=1i",
        "visits=1i,seconds_sum=22.5,bin_20=1i",
    ]
    assert written[0].startswith("dwell_1h,node=entrance,store=Main\\ Street,zone=counter ")
    ns = int(written[0].rsplit(" ", 1)[1])
    assert (HOUR + 5) * 1e9 <= ns < (HOUR + SLOT_S) * 1e9
    assert maker.rollup() == []


def test_dwell_bins_hold_the_analyst_apps_histogram_and_its_edges() -> None:
    from streamlit_app.queries import zone_dwell  # the app reads what the export writes

    assert tuple(zone_dwell.ROLLUP_EDGES) == DWELL_EDGES
    assert set(zone_dwell.DWELL_BINS) <= set(DWELL_EDGES)
    assert [dwell_bin(s) for s in (-1.0, 0.0, 1.99, 2.0, 599.9, 600.0, 1e6)] == [
        0, 0, 0, 2, 450, 600, 7200
    ]  # fmt: skip


def test_persona_counts_are_written_when_they_change_and_a_day_reads_the_same(
    influxd: Influxd,
) -> None:
    maker = PointMaker("Main Street")

    def personas(ts: float, **counts: int) -> list[str]:
        lines = maker.state("entrance", {"ts": ts, "counters": {"personas": counts}})
        return [x for x in lines if x.startswith("personas,")]

    # A state on every head-count change: the persona counts move only when a visit ends.
    written = personas(HOUR + 60, browser=1, passer_by=2)
    assert len(written) == 2  # everything, the first time
    assert personas(HOUR + 120, browser=1, passer_by=2) == []
    assert personas(HOUR + 180, browser=1, passer_by=2) == []
    changed = personas(HOUR + 240, browser=2, passer_by=2)
    assert len(changed) == 1
    assert "persona=browser" in changed[0]
    assert "visitors=2i" in changed[0]
    written += changed
    written += personas(HOUR + 300, browser=3, passer_by=2, lingerer=1)
    # The node's midnight: every count drops to zero, and that is a change too.
    after = personas(HOUR + 86_400, browser=0, passer_by=0, lingerer=0)
    assert len(after) == 3
    written += after
    fill(influxd, "personas_changes", written)

    response = requests.get(
        f"{influxd.url}/query",
        params={
            "db": "personas_changes",
            "q": 'SELECT max("visitors") FROM "personas" GROUP BY time(1d), "persona" fill(none)',
        },
        timeout=10,
    ).json()
    largest = {
        (series["tags"]["persona"], day): value
        for series in response["results"][0]["series"]
        for day, value in series["values"]
    }
    first_day = {
        persona: v for (persona, day), v in largest.items() if day.startswith("2026-11-30")
    }
    assert first_day == {"browser": 3, "passer_by": 2, "lingerer": 1}
