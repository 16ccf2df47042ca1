"""The query module against a real InfluxDB, without Streamlit: what the pages and the
benchmark call."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np
import pandas as pd
import pytest
import requests

from custom_components.storefront.influx import InfluxTarget, write_lines
from custom_components.storefront.points import PointMaker
from storefront_dev.servers import Influxd, free_port
from streamlit_app import queries
from streamlit_app.config import Settings
from streamlit_app.influxql import (
    CHUNK_SIZE,
    InfluxClient,
    InfluxRefused,
    InfluxUnreachable,
    to_frame,
)
from tests.node_contract import example
from tests.streamlit import dataset

DATABASE = "streamlit_data"


@pytest.fixture
def client(influxd: Influxd, store_data: dataset.Dataset) -> InfluxClient:
    return InfluxClient(Settings(url=influxd.url, database=DATABASE, timezone=dataset.TZ))


SCOPE = queries.base.Scope(tz=dataset.TZ)


def _write(url: str, database: str, lines: list[str], rp: str = "") -> None:
    async def send() -> None:
        target = InfluxTarget(url, database=database, retention_policy=rp)
        async with aiohttp.ClientSession() as session:
            await write_lines(session, target, lines)

    asyncio.run(send())


def test_a_running_day_is_compared_with_the_same_hours_a_week_ago(
    client: InfluxClient, store_data: dataset.Dataset
) -> None:
    day = store_data.today - timedelta(days=1)
    midnight = datetime.combine(day, time(), store_data.tz)
    now = midnight + timedelta(hours=14)  # as if the app were opened at 14:00 that day
    overview = queries.overview.load(client, SCOPE, day, now)
    assert overview.partial
    assert overview.window.end == now
    week = timedelta(days=7)
    assert overview.previous_window.end == now - week

    def entries(start: datetime, end: datetime) -> int:
        return sum(
            1
            for c in store_data.crossings
            if c.direction == "in"
            and not c.synthetic
            and start.timestamp() <= c.ts < end.timestamp()
        )

    assert overview.current.visitors == entries(midnight, now)
    assert overview.previous.visitors == entries(midnight - week, now - week)
    assert 0 < overview.current.visitors < store_data.entries(day, day)
    whole = queries.overview.load(client, SCOPE, day, midnight + timedelta(days=2))
    assert not whole.partial
    assert whole.current.visitors == store_data.entries(day, day)
    assert whole.current.peak_occupancy == store_data.peak_occupancy(day)
    assert whole.occupancy["selected"].max() == whole.current.peak_occupancy
    assert whole.hourly["selected"].sum() == whole.current.visitors


def test_hourly_entries_and_heatmap_add_up(
    client: InfluxClient, store_data: dataset.Dataset
) -> None:
    last = store_data.today - timedelta(days=1)
    first = last - timedelta(days=13)
    traffic = queries.traffic.load(client, SCOPE, queries.base.Window.days(first, last, dataset.TZ))
    assert len(traffic.hourly) == 14 * 24  # fill(0): every hour, also the closed ones
    per_slot: dict[tuple[int, int], int] = defaultdict(int)
    for crossing in store_data.select(store_data.crossings, first, last):
        if crossing.direction == "in":
            moment = datetime.fromtimestamp(crossing.ts, store_data.tz)
            per_slot[(moment.weekday(), moment.hour)] += 1
    heatmap = traffic.heatmap()
    assert len(heatmap) == 7 * 24
    for row in heatmap.itertuples(index=False):
        weekday = queries.traffic.WEEKDAYS.index(row.weekday)
        # Two of each weekday in fourteen days: the average is half the sum.
        assert row.entries == pytest.approx(per_slot[(weekday, row.hour)] / 2)
    by_hour = traffic.by_hour_of_day()
    assert by_hour["entries"].sum() * 14 == pytest.approx(store_data.entries(first, last))


def test_occupancy_profile_through_the_day(
    client: InfluxClient, store_data: dataset.Dataset
) -> None:
    day = store_data.today - timedelta(days=1)
    zones = queries.zones.load(client, SCOPE, queries.base.Window.days(day, day, dataset.TZ))
    assert zones.interval == "5m"
    profile = zones.profile()
    readings = [r for r in store_data.select(store_data.occupancy, day, day) if r.node == "floor"]
    for reading in readings:
        moment = datetime.fromtimestamp(reading.ts, store_data.tz)
        row = profile[
            (profile["time_of_day"] == moment.strftime("%H:%M"))
            & (profile["zone"] == "Main Street · floor · aisle")
        ]
        assert row["people"].tolist() == [reading.zones["aisle"]]


def _mean_readings(
    client: InfluxClient, window: queries.base.Window, interval: str
) -> dict[tuple[str, ...], float]:
    """InfluxDB's own mean of the minute readings, per bucket and zone."""
    frame = to_frame(
        client.query(
            'SELECT mean("people") AS "people" FROM "occupancy" '
            f"WHERE {queries.base.where(SCOPE, window)} "
            f'GROUP BY time({interval}), "store", "node", "zone" fill(none) '
            f"tz('{dataset.TZ}')"
        ),
        dataset.TZ,
    )
    return _by_zone_and_time(frame)


def _by_zone_and_time(frame: pd.DataFrame) -> dict[tuple[str, ...], float]:
    keys = zip(frame["time"].astype(str), frame["store"], frame["node"], frame["zone"], strict=True)
    return dict(zip(keys, frame["people"], strict=True))


@pytest.mark.parametrize(("days", "interval"), [(7, "15m"), (10, "1h")])
def test_long_ranges_average_the_rollup_exactly_as_the_readings(
    client: InfluxClient, store_data: dataset.Dataset, days: int, interval: str
) -> None:
    last = store_data.today - timedelta(days=1)
    window = queries.base.Window.days(last - timedelta(days=days - 1), last, dataset.TZ)
    zones = queries.zones.load(client, SCOPE, window)
    assert zones.interval == interval
    expected = _mean_readings(client, window, interval)
    assert len(expected) > days * 24
    assert _by_zone_and_time(zones.occupancy) == pytest.approx(expected, rel=1e-12)


def _partly_rolled_up(
    influxd: Influxd,
    store_data: dataset.Dataset,
    window: queries.base.Window,
    raw: str,
    rollup: str,
) -> InfluxClient:
    """A database of `store_data` whose `rollup` begins 3 days into `window` (history from
    before it) and leaves out the node `floor`, and whose `raw` points of the other nodes are
    gone from day 4 to the window's last day: a client of it."""
    rollup_from = (window.start + timedelta(days=3, minutes=7)).timestamp()
    gap = (
        (window.start + timedelta(days=4)).timestamp(),
        (window.end - timedelta(days=1)).timestamp(),
    )
    unrolled = ",node=floor,"  # with its zones aisle and counter

    def keep(text: str) -> bool:
        ts = int(text.rsplit(" ", 1)[1]) / 1e9
        if text.startswith(f"{rollup},"):
            return ts >= rollup_from and unrolled not in text
        if text.startswith(f"{raw},") and unrolled not in text:
            return not gap[0] <= ts < gap[1]
        return True

    database = f"streamlit_partial_{rollup}"
    dataset.create_database(influxd.url, database)
    dataset.write(influxd.url, database, [text for text in store_data.lines if keep(text)])
    return InfluxClient(Settings(url=influxd.url, database=database, timezone=dataset.TZ))


def test_the_rollup_answers_where_it_covers_and_the_readings_elsewhere(
    influxd: Influxd, client: InfluxClient, store_data: dataset.Dataset
) -> None:
    """A database whose rollup begins late (history from before it), misses one zone, and
    whose minute readings of the other zones are gone in between: the answers stay the
    readings' means, so each part came from where it had to."""
    last = store_data.today - timedelta(days=1)
    window = queries.base.Window.days(last - timedelta(days=9), last, dataset.TZ)
    partial = _partly_rolled_up(influxd, store_data, window, "occupancy", "occupancy_1h")
    zones = queries.zones.load(partial, SCOPE, window)
    expected = _mean_readings(client, window, "1h")
    assert {key[2] for key in expected} == {"entrance", "floor"}
    assert _by_zone_and_time(zones.occupancy) == pytest.approx(expected, rel=1e-12)


def test_dwell_beyond_the_sample_size_is_estimated_from_a_sample(
    client: InfluxClient, store_data: dataset.Dataset
) -> None:
    last = store_data.today - timedelta(days=1)
    first = last - timedelta(days=6)
    window = queries.base.Window.days(first, last, dataset.TZ)
    exact = queries.zones.load(client, SCOPE, window)
    assert not exact.sampled
    sampled = queries.zones.load(client, SCOPE, window, sample_size=20)
    assert sampled.sampled
    expected = store_data.dwell(first, last)
    for row in sampled.dwell.itertuples(index=False):
        seconds = expected[(row.store, row.node, row.zone)]
        assert row.sampled == (len(seconds) > 20)
        assert row.visits == len(seconds)  # counts and means stay exact
        assert row.mean_s == pytest.approx(sum(seconds) / len(seconds))
        assert {row.p10, row.p50, row.p90} <= set(seconds)
    shares = sampled.histogram.groupby(["store", "node", "zone"])["share"].sum()
    assert shares.to_numpy() == pytest.approx(1.0)
    exact_shares = exact.histogram.set_index(["store", "node", "zone", "bin"])["share"]
    seconds = expected[("Main Street", "floor", "aisle")]
    under_10 = sum(1 for s in seconds if s < 10) / len(seconds)
    assert exact_shares[("Main Street", "floor", "aisle", "0 s to 10 s")] == pytest.approx(under_10)


def test_store_names_with_quotes_are_escaped(influxd: Influxd) -> None:
    store = 'Bob\'s "Corner" Shop'
    database = "streamlit_data_quotes"
    dataset.create_database(influxd.url, database)
    maker = PointMaker(store)
    event = example("event_crossing")
    now = datetime.now(tz=ZoneInfo(dataset.TZ))
    event["ts"] = (now - timedelta(minutes=5)).timestamp()
    _write(influxd.url, database, maker.event("entrance", event))
    client = InfluxClient(Settings(url=influxd.url, database=database, timezone=dataset.TZ))
    assert queries.sidebar.load(client).stores == (store,)
    window = queries.base.Window.days(now.date(), now.date(), dataset.TZ)
    scope = queries.base.Scope(stores=(store,), nodes=((store, "entrance"),), tz=dataset.TZ)
    assert queries.traffic.load(client, scope, window).lines["entries"].tolist() == [1]
    other = queries.base.Scope(stores=("Bob's",), tz=dataset.TZ)
    assert queries.traffic.load(client, other, window).empty


def test_reads_a_named_retention_policy(influxd: Influxd) -> None:
    database = "streamlit_data_rp"
    dataset.create_database(influxd.url, database)
    requests.post(
        f"{influxd.url}/query",
        params={"q": f'CREATE RETENTION POLICY "keep" ON "{database}" DURATION 400d REPLICATION 1'},
        timeout=10,
    ).raise_for_status()
    event = example("event_crossing")
    now = datetime.now(tz=ZoneInfo(dataset.TZ))
    event["ts"] = (now - timedelta(minutes=5)).timestamp()
    _write(influxd.url, database, PointMaker("Main Street").event("entrance", event), rp="keep")
    window = queries.base.Window.days(now.date(), now.date(), dataset.TZ)
    for rp, expected in (("keep", [1]), ("", [])):
        settings = Settings(
            url=influxd.url, database=database, retention_policy=rp, timezone=dataset.TZ
        )
        lines = queries.traffic.load(InfluxClient(settings), SCOPE, window).lines
        assert lines["entries"].tolist() == expected


def test_long_answers_arrive_whole(client: InfluxClient, store_data: dataset.Dataset) -> None:
    """More rows than one chunk: the chunks of the one series are joined."""
    (series,) = client.query('SELECT "people", "zone" FROM "occupancy" WHERE time > 0')
    expected = sum(len(r.zones) for r in store_data.occupancy)
    assert expected > CHUNK_SIZE
    assert len(series.values) == expected


def test_unreachable_and_refused_are_told_apart(influxd: Influxd) -> None:
    closed = InfluxClient(Settings(url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(InfluxUnreachable) as unreachable:
        queries.sidebar.load(closed)
    assert "curl" in unreachable.value.hint
    missing = InfluxClient(Settings(url=influxd.url, database="streamlit_data_missing"))
    with pytest.raises(InfluxRefused) as refused:
        queries.sidebar.load(missing)
    assert "does not exist" in str(refused.value)
    assert "STOREFRONT_INFLUX_DB" in refused.value.hint


def test_persona_mix_by_hour_and_weekday(client: InfluxClient, store_data: dataset.Dataset) -> None:
    last = store_data.today - timedelta(days=1)
    first = last - timedelta(days=13)
    window = queries.base.Window.days(first, last, dataset.TZ)
    personas = queries.personas.load(client, SCOPE, window, store_data.now)
    visits = [v for v in store_data.select(store_data.visits, first, last) if v.persona]
    tz = store_data.tz
    by_hour = Counter((datetime.fromtimestamp(v.ts, tz).hour, v.persona) for v in visits)
    weekday = Counter((datetime.fromtimestamp(v.ts, tz).strftime("%A"), v.persona) for v in visits)
    assert {(r.hour, r.persona): r.visits for r in personas.by_hour.itertuples()} == by_hour
    assert {(r.weekday, r.persona): r.visits for r in personas.by_weekday.itertuples()} == weekday
    assert list(dict.fromkeys(personas.by_weekday["weekday"])) == list(queries.personas.WEEKDAYS)


def _dwell_from_points(client: InfluxClient, window: queries.base.Window) -> dict[Zone, tuple]:
    """InfluxDB's own count and mean of the dwell points per zone."""
    frame = to_frame(
        client.query(
            'SELECT count("seconds") AS "visits", mean("seconds") AS "mean_s" FROM "dwell" '
            f'WHERE {queries.base.where(SCOPE, window)} GROUP BY "store", "node", "zone"'
        )
    )
    return {(r.store, r.node, r.zone): (r.visits, r.mean_s) for r in frame.itertuples(index=False)}


Zone = tuple[str, str, str]


def _rollup_bin(seconds: float) -> tuple[float, float]:
    """The rollup bin (lower, upper edge) that holds `seconds`."""
    edges = [*queries.zone_dwell.ROLLUP_EDGES, float("inf")]
    index = max(i for i, edge in enumerate(edges) if edge <= seconds)
    return edges[index], edges[index + 1]


def _assert_dwell_as_recorded(
    zones: queries.zones.Zones, recorded: dict[Zone, list[float]], binned: set[Zone]
) -> None:
    """Visits, mean and histogram as the dwell times written; percentiles exact, or for the
    zones `binned` from the rollup within the bin of the exact one."""
    assert {(r.store, r.node, r.zone) for r in zones.dwell.itertuples()} == set(recorded)
    histogram = zones.histogram.set_index(["store", "node", "zone", "lower_s"])["share"]
    for row in zones.dwell.itertuples(index=False):
        key = (row.store, row.node, row.zone)
        seconds = recorded[key]
        assert row.visits == len(seconds)
        assert row.mean_s == pytest.approx(sum(seconds) / len(seconds), rel=1e-12)
        assert row.binned == (key in binned)
        assert not row.sampled
        for percent in queries.zone_dwell.PERCENTILES:
            exact = dataset.nearest_rank(seconds, percent)
            if key in binned:
                lower, upper = _rollup_bin(exact)
                assert lower <= getattr(row, f"p{percent}") < upper, (key, percent)
            else:
                assert getattr(row, f"p{percent}") == exact
        edges = [*queries.zone_dwell.DWELL_BINS, float("inf")]
        for lower, upper in itertools.pairwise(edges):
            share = sum(1 for s in seconds if lower <= s < upper) / len(seconds)
            assert histogram[(*key, lower)] == pytest.approx(share, rel=1e-12, abs=1e-15)


def test_long_ranges_read_dwell_from_the_rollup_with_the_points_counts_and_means(
    client: InfluxClient, store_data: dataset.Dataset
) -> None:
    last = store_data.today - timedelta(days=1)
    first = last - timedelta(days=13)
    window = queries.base.Window.days(first, last, dataset.TZ)
    zones = queries.zones.load(client, SCOPE, window)
    assert zones.binned
    from_points = _dwell_from_points(client, window)
    assert len(from_points) == 5
    rolled = {(r.store, r.node, r.zone): (r.visits, r.mean_s) for r in zones.dwell.itertuples()}
    assert {k: v[0] for k, v in rolled.items()} == {k: v[0] for k, v in from_points.items()}
    assert {k: v[1] for k, v in rolled.items()} == pytest.approx(
        {k: v[1] for k, v in from_points.items()}, rel=1e-12
    )
    recorded = store_data.dwell(first, last)
    _assert_dwell_as_recorded(zones, recorded, binned=set(recorded))
    # The default week reads the points: exact percentiles, as before.
    week = queries.base.Window.days(last - timedelta(days=6), last, dataset.TZ)
    assert not queries.zones.load(client, SCOPE, week).binned


def test_dwell_rollup_answers_where_it_covers_and_the_points_elsewhere(
    influxd: Influxd, store_data: dataset.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database whose dwell rollup begins late (history from before it), misses one node,
    and whose dwell points of the other node are gone in between: the figures stay those of
    all the dwell times written, so each part came from where it had to (the rollup read in
    parts, as a quarter is)."""
    monkeypatch.setattr(queries.zone_dwell, "PART_DAYS", 3)
    last = store_data.today - timedelta(days=1)
    window = queries.base.Window.days(last - timedelta(days=11), last, dataset.TZ)
    partial = _partly_rolled_up(influxd, store_data, window, "dwell", "dwell_1h")
    zones = queries.zones.load(partial, SCOPE, window)
    recorded = store_data.dwell(window.start.date(), last)
    rolled = {key for key in recorded if key[1] != "floor"}
    assert rolled
    _assert_dwell_as_recorded(zones, recorded, binned=rolled)
    # Counts and means stay exact when the points are sampled; the bars still add up.
    sampled = queries.zones.load(partial, SCOPE, window, sample_size=20)
    assert sampled.sampled
    keys = ["store", "node", "zone"]
    figures, exact = sampled.dwell.set_index(keys), zones.dwell.set_index(keys)
    assert figures["visits"].to_dict() == exact["visits"].to_dict()
    assert figures["mean_s"].to_dict() == pytest.approx(exact["mean_s"].to_dict(), rel=1e-12)
    shares = sampled.histogram.groupby(["store", "node", "zone"])["share"].sum()
    assert shares.to_numpy() == pytest.approx(1.0)


def test_a_percentile_from_bins_is_placed_within_its_bin() -> None:
    edges = queries.zone_dwell.ROLLUP_EDGES
    counts = np.zeros(len(edges))
    counts[edges.index(10)] = 10  # ten visits from 10 s to under 12 s
    # The 5th of 10 (nearest rank of the median) is 4.5 tenths into the bin.
    assert queries.zone_dwell.binned_percentile(counts, 50) == pytest.approx(10.9)
    assert queries.zone_dwell.binned_percentile(counts, 10) == pytest.approx(10.1)
    counts[-1] = 30  # and thirty beyond the last edge: that bin's lower edge
    assert queries.zone_dwell.binned_percentile(counts, 90) == edges[-1]
    # The 4th of 40: 3.5 tenths into the first bin.
    assert queries.zone_dwell.binned_percentile(counts, 10) == pytest.approx(10.7)
    assert np.isnan(queries.zone_dwell.binned_percentile(np.zeros(len(edges)), 50))
