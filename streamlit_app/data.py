"""What each page of the analyst app shows, as plain functions over InfluxQL.

No Streamlit here: the pages cache and draw what these functions return, the tests and the
benchmark call them directly. Aggregation happens in InfluxDB (`GROUP BY time(...)`, sums,
counts, means), so a page asks for thousands of rows, not for months of raw points; the one
place that reads raw values, dwell distributions, reads at most a fixed sample per zone.
pandas only reshapes what comes back. The schema is docs/data-model.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from streamlit_app.influxql import (
    InfluxClient,
    Series,
    quote_ident,
    quote_literal,
    tag_values,
    to_frame,
)

WEEK: Final = timedelta(days=7)
WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PERCENTILES: Final = (10, 25, 50, 75, 90)
# Dwell percentiles and histogram come from at most this many visits per zone: exact up to
# it (a week or two of a busy node), from a random sample beyond.
DWELL_SAMPLE: Final = 2000
PART_DAYS: Final = 21  # long ranges of minute-level occupancy are read in parts of this size
# Dwell histogram bins in seconds; the last one is open.
DWELL_BINS: Final = (0, 10, 30, 60, 120, 300, 600)
OCCUPANCY_SLOT: Final = "5min"  # the overview's head count curve: the peak of each slot
ENTRIES: Final = "\"direction\" = 'in'"


# --- What to look at -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which points a page looks at, apart from time. An empty tuple means "all"."""

    stores: tuple[str, ...] = ()
    nodes: tuple[tuple[str, str], ...] = ()  # (store, node) pairs
    zones: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    synthetic: bool = False  # include the simulator's nodes (tag synthetic=true)
    tz: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True)
class Window:
    """A half-open time range [start, end) with time-zone aware ends."""

    start: datetime
    end: datetime

    @classmethod
    def days(cls, first: date, last: date, tz: str) -> Window:
        """Whole local days, `first` to `last` inclusive."""
        zone = ZoneInfo(tz)
        return cls(
            datetime.combine(first, time(), zone),
            datetime.combine(last + timedelta(days=1), time(), zone),
        )

    def until(self, now: datetime) -> Window:
        """The part of the window that has already happened."""
        return Window(self.start, min(self.end, max(self.start, now)))

    def split(self, days: int) -> list[Window]:
        """Consecutive parts of at most `days` local days, cut at local midnight, so that no
        GROUP BY time() bucket of a day or less straddles two parts."""
        parts, start = [], self.start
        while start < self.end:
            end = min(
                self.end,
                datetime.combine(start.date() + timedelta(days=days), time(), start.tzinfo),
            )
            parts.append(Window(start, end))
            start = end
        return parts

    def shifted(self, delta: timedelta) -> Window:
        # Aware datetimes in one ZoneInfo add wall-clock time: a week earlier is the same
        # local hour even across a daylight saving change.
        return Window(self.start + delta, self.end + delta)

    @property
    def span(self) -> timedelta:
        return self.end - self.start


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _any_of(key: str, values: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{quote_ident(key)} = {quote_literal(v)}" for v in values) + ")"


def where(
    scope: Scope,
    window: Window,
    *,
    zones: bool = False,
    lines: bool = False,
    extra: Sequence[str] = (),
) -> str:
    """The WHERE clause: time, store/node, optionally zone and line, simulated nodes."""
    parts = [f"time >= {_ms(window.start)}ms AND time < {_ms(window.end)}ms"]
    if scope.stores:
        parts.append(_any_of("store", scope.stores))
    if scope.nodes:
        pairs = [
            f'("store" = {quote_literal(store)} AND "node" = {quote_literal(node)})'
            for store, node in scope.nodes
        ]
        parts.append("(" + " OR ".join(pairs) + ")")
    if zones and scope.zones:
        parts.append(_any_of("zone", scope.zones))
    if lines and scope.lines:
        parts.append(_any_of("line", scope.lines))
    if not scope.synthetic:
        # A point without the tag compares as '' and passes.
        parts.append("\"synthetic\" != 'true'")
    parts.extend(extra)
    return " AND ".join(parts)


def _tz(scope: Scope) -> str:
    return f"tz({quote_literal(scope.tz)})"


def bucket(window: Window) -> str:
    """The GROUP BY time() interval for charts through the day: fine for short ranges,
    coarser for long ones so a chart stays a few thousand rows."""
    if window.span <= timedelta(days=2):
        return "5m"
    if window.span <= timedelta(days=8):
        return "15m"
    return "1h"


def label(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """A readable series name: "node · zone", with the store in front when several appear."""
    keys = [k for k in keys if k in frame.columns]
    if "store" in keys and frame["store"].nunique() <= 1:
        keys.remove("store")
    if not keys:
        return pd.Series("all", index=frame.index)
    text = frame[keys[0]].fillna("").astype(str)
    for key in keys[1:]:
        text = text + " · " + frame[key].fillna("").astype(str)
    return text


def _ensure(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """An empty answer has no columns; give it the expected ones."""
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="object")
    return frame


# --- Sidebar choices -------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What the sidebar offers, from the tag index (SHOW TAG VALUES)."""

    stores: tuple[str, ...] = ()
    nodes: tuple[tuple[str, str], ...] = ()
    zones: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    has_synthetic: bool = False

    @property
    def empty(self) -> bool:
        return not self.stores


def options(client: InfluxClient) -> Options:
    m = client.measurement
    stores, zones, lines, synthetic = client.query_many(
        [
            'SHOW TAG VALUES WITH KEY = "store"',
            f'SHOW TAG VALUES FROM {m("occupancy")}, {m("dwell")} WITH KEY = "zone"',
            f'SHOW TAG VALUES FROM {m("crossing")} WITH KEY = "line"',
            'SHOW TAG VALUES WITH KEY = "synthetic"',
        ]
    )
    store_names = tag_values(stores)
    per_store = client.query_many(
        [
            f'SHOW TAG VALUES WITH KEY = "node" WHERE "store" = {quote_literal(store)}'
            for store in store_names
        ]
    )
    nodes = tuple(
        (store, node)
        for store, found in zip(store_names, per_store, strict=True)
        for node in tag_values(found)
    )
    return Options(
        stores=tuple(store_names),
        nodes=nodes,
        zones=tuple(tag_values(zones)),
        lines=tuple(tag_values(lines)),
        has_synthetic="true" in tag_values(synthetic),
    )


# --- Overview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    """The headline numbers of one window."""

    visitors: int = 0
    exits: int = 0
    peak_occupancy: int | None = None
    visits: int = 0
    visit_mean_s: float | None = None
    visit_median_s: float | None = None

    @property
    def empty(self) -> bool:
        return not (self.visitors or self.exits or self.visits or self.peak_occupancy)


@dataclass(frozen=True)
class Overview:
    day: date
    window: Window
    previous_window: Window
    current: Kpis
    previous: Kpis
    hourly: pd.DataFrame  # hour (0-23), selected, last_week: entries per hour
    occupancy: pd.DataFrame  # time_of_day (HH:MM), selected, last_week: peak head count
    partial: bool  # the day is still running: both windows end at the same local time

    @property
    def empty(self) -> bool:
        return bool(self.current.empty and self.previous.empty)

    def table(self) -> pd.DataFrame:
        rows = [
            ("Visitors (entries)", self.current.visitors, self.previous.visitors),
            ("Exits", self.current.exits, self.previous.exits),
            ("Peak occupancy", self.current.peak_occupancy, self.previous.peak_occupancy),
            ("Visits", self.current.visits, self.previous.visits),
            (
                "Average visit (s)",
                _round(self.current.visit_mean_s),
                _round(self.previous.visit_mean_s),
            ),
            (
                "Median visit (s)",
                _round(self.current.visit_median_s),
                _round(self.previous.visit_median_s),
            ),
        ]
        return pd.DataFrame(
            rows,
            columns=[
                "metric",
                self.day.isoformat(),
                (self.day - WEEK).isoformat(),
            ],
        )


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def _kpi_statements(client: InfluxClient, scope: Scope, window: Window) -> list[str]:
    m = client.measurement
    return [
        f'SELECT sum("count") AS "n" FROM {m("crossing")} '
        f'WHERE {where(scope, window, lines=True)} GROUP BY "direction"',
        f'SELECT max("people") AS "people" FROM {m("node_occupancy")} '
        f'WHERE {where(scope, window)} GROUP BY time(1m), "store", "node" fill(none)',
        f'SELECT count("duration_s") AS "visits", mean("duration_s") AS "mean", '
        f'median("duration_s") AS "median" FROM {m("visit")} WHERE {where(scope, window)}',
        f'SELECT sum("count") AS "entries" FROM {m("crossing")} '
        f"WHERE {where(scope, window, lines=True, extra=[ENTRIES])} "
        f"GROUP BY time(1h) fill(0) {_tz(scope)}",
    ]


def _kpis(answers: list[list[Series]], scope: Scope) -> tuple[Kpis, pd.DataFrame, pd.DataFrame]:
    """One window's numbers, its entries per hour and its head count through the day."""
    crossings, occupancy, visits, hourly = answers
    directions = to_frame(crossings)
    totals = (
        dict(zip(directions["direction"], directions["n"], strict=True))
        if not directions.empty
        else {}
    )
    occ = to_frame(occupancy, scope.tz)
    peak = None
    curve = pd.DataFrame({"time_of_day": pd.Series(dtype="object"), "people": []})
    if not occ.empty and occ["people"].notna().any():
        # Nodes see different rooms: the head count of the selection is their sum.
        people = occ.groupby("time")["people"].sum()
        peak = int(people.max())
        per_slot = people.resample(OCCUPANCY_SLOT).max().dropna()
        curve = pd.DataFrame(
            {"time_of_day": per_slot.index.strftime("%H:%M"), "people": per_slot.to_numpy()}
        )
    stats = to_frame(visits)
    count, mean, median = 0, None, None
    if not stats.empty and stats["visits"].iloc[0]:
        count = int(stats["visits"].iloc[0])
        mean, median = float(stats["mean"].iloc[0]), float(stats["median"].iloc[0])
    kpis = Kpis(
        visitors=int(totals.get("in", 0) or 0),
        exits=int(totals.get("out", 0) or 0),
        peak_occupancy=peak,
        visits=count,
        visit_mean_s=mean,
        visit_median_s=median,
    )
    per_hour = to_frame(hourly, scope.tz)
    if per_hour.empty:
        per_hour = pd.DataFrame({"hour": pd.Series(dtype="int64"), "entries": []})
    else:
        per_hour = pd.DataFrame(
            {"hour": per_hour["time"].dt.hour, "entries": per_hour["entries"].fillna(0)}
        )
        per_hour = per_hour.groupby("hour", as_index=False)["entries"].sum()
    return kpis, per_hour, curve


def _so_far(window: Window, scope: Scope, now: datetime | None) -> Window:
    """The part of `window` that has happened by the shop's clock (`now`: a fixed time)."""
    return window.until((now or datetime.now(scope.zone)).astimezone(scope.zone))


def overview(
    client: InfluxClient, scope: Scope, day: date, now: datetime | None = None
) -> Overview:
    """The day's headline numbers against the same weekday a week earlier. While the day is
    still running, both are cut at the same local time ("so far")."""
    whole_day = Window.days(day, day, scope.tz)
    window = _so_far(whole_day, scope, now)
    previous_window = window.shifted(-WEEK)
    answers = client.query_many(
        _kpi_statements(client, scope, window) + _kpi_statements(client, scope, previous_window)
    )
    current, hourly, curve = _kpis(answers[:4], scope)
    previous, hourly_before, curve_before = _kpis(answers[4:], scope)
    occupancy = curve.rename(columns={"people": "selected"}).merge(
        curve_before.rename(columns={"people": "last_week"}), on="time_of_day", how="outer"
    )
    hours = pd.DataFrame({"hour": range(24)})
    table = hours.merge(hourly.rename(columns={"entries": "selected"}), on="hour", how="left")
    table = table.merge(
        hourly_before.rename(columns={"entries": "last_week"}), on="hour", how="left"
    )
    return Overview(
        day=day,
        window=window,
        previous_window=previous_window,
        current=current,
        previous=previous,
        hourly=table.fillna(0).astype({"selected": "int64", "last_week": "int64"}),
        occupancy=occupancy.sort_values("time_of_day").reset_index(drop=True),
        partial=window.end < whole_day.end,
    )


# --- Traffic ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    hourly: pd.DataFrame  # time (local), entries, exits: every hour of the window
    lines: pd.DataFrame  # store, node, line, entries, exits

    @property
    def empty(self) -> bool:
        return bool(self.lines.empty)

    def by_hour_of_day(self) -> pd.DataFrame:
        """Average entries and exits per hour of the day over the days in the window."""
        if self.hourly.empty:
            return pd.DataFrame(columns=["hour", "entries", "exits"])
        frame = self.hourly.assign(hour=self.hourly["time"].dt.hour)
        return frame.groupby("hour", as_index=False)[["entries", "exits"]].mean()

    def heatmap(self) -> pd.DataFrame:
        """Average entries per weekday and hour: weekday (Mon..Sun), hour, entries."""
        if self.hourly.empty:
            return pd.DataFrame(columns=["weekday", "hour", "entries"])
        frame = self.hourly.assign(
            weekday=self.hourly["time"].dt.dayofweek, hour=self.hourly["time"].dt.hour
        )
        table = frame.groupby(["weekday", "hour"], as_index=False)["entries"].mean()
        table["weekday"] = table["weekday"].map(dict(enumerate(WEEKDAYS)))
        return table

    def daily(self) -> pd.DataFrame:
        if self.hourly.empty:
            return pd.DataFrame(columns=["day", "entries", "exits"])
        frame = self.hourly.assign(day=self.hourly["time"].dt.date)
        return frame.groupby("day", as_index=False)[["entries", "exits"]].sum()


def _pivot_directions(frame: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    table = frame.pivot_table(index=index, columns="direction", values="n", aggfunc="sum")
    table = table.reindex(columns=["in", "out"]).fillna(0).astype("int64")
    table = table.rename(columns={"in": "entries", "out": "exits"}).reset_index()
    table.columns.name = None
    return table


def traffic(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Traffic:
    window = _so_far(window, scope, now)
    m = client.measurement
    condition = where(scope, window, lines=True)
    hourly, lines = client.query_many(
        [
            f'SELECT sum("count") AS "n" FROM {m("crossing")} WHERE {condition} '
            f'GROUP BY time(1h), "direction" fill(0) {_tz(scope)}',
            f'SELECT sum("count") AS "n" FROM {m("crossing")} WHERE {condition} '
            'GROUP BY "store", "node", "line", "direction"',
        ]
    )
    per_hour = to_frame(hourly, scope.tz)
    per_line = to_frame(lines)
    if per_line.empty:
        empty = pd.DataFrame(columns=["time", "entries", "exits"])
        return Traffic(empty, pd.DataFrame(columns=["store", "node", "line", "entries", "exits"]))
    return Traffic(
        hourly=_pivot_directions(per_hour, ["time"]),
        lines=_pivot_directions(per_line, ["store", "node", "line"]),
    )


# --- Zones and dwell -------------------------------------------------------------------------


@dataclass(frozen=True)
class Zones:
    interval: str
    occupancy: pd.DataFrame  # time, store, node, zone, people (mean per interval)
    dwell: pd.DataFrame  # store, node, zone, visits, mean_s, p10 .. p90, sampled
    histogram: pd.DataFrame  # store, node, zone, bin, lower_s, share

    @property
    def empty(self) -> bool:
        return bool(self.occupancy.empty and self.dwell.empty)

    @property
    def sampled(self) -> bool:
        """Percentiles and histogram of some zone come from a sample of its visits."""
        return bool(not self.dwell.empty and self.dwell["sampled"].any())

    def profile(self) -> pd.DataFrame:
        """Occupancy through the day: mean people per zone and time of day (the window's
        days laid on top of each other)."""
        if self.occupancy.empty:
            return pd.DataFrame(columns=["time_of_day", "zone", "people"])
        frame = self.occupancy.assign(
            zone=label(self.occupancy, ["store", "node", "zone"]),
            time_of_day=self.occupancy["time"].dt.strftime("%H:%M"),
        )
        return frame.groupby(["time_of_day", "zone"], as_index=False)["people"].mean()


def nearest_rank(values: npt.NDArray[np.float64], percent: float) -> float:
    """The nearest-rank percentile of sorted `values`, as InfluxQL's percentile() defines it."""
    index = int(len(values) * percent / 100 + 0.5) - 1
    return float(values[min(max(index, 0), len(values) - 1)])


def _dwell_bin_label(lower: int, upper: int | None) -> str:
    def text(seconds: int) -> str:
        return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"

    return f"{text(lower)}+" if upper is None else f"{text(lower)} to {text(upper)}"


def _distributions(stats: pd.DataFrame, samples: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Percentiles and a histogram per zone from its dwell values (all of them, or a sample)."""
    keys = ["store", "node", "zone"]
    edges = [*DWELL_BINS, np.inf]
    rows, bins = [], []
    for key, group in samples.groupby(keys):
        values = np.sort(group["seconds"].to_numpy(dtype=float))
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                **{f"p{p}": nearest_rank(values, p) for p in PERCENTILES},
                "sampled_n": len(values),
            }
        )
        counts, _ = np.histogram(values, bins=edges)
        for i, count in enumerate(counts):
            upper = DWELL_BINS[i + 1] if i + 1 < len(DWELL_BINS) else None
            bins.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "bin": _dwell_bin_label(DWELL_BINS[i], upper),
                    "lower_s": DWELL_BINS[i],
                    "share": count / len(values),
                }
            )
    table = stats.merge(pd.DataFrame(rows), on=keys, how="left")
    table["sampled"] = table["sampled_n"] < table["visits"]
    columns = [*keys, "visits", "mean_s", *(f"p{p}" for p in PERCENTILES), "sampled"]
    table = table[columns].sort_values(keys).reset_index(drop=True)
    return table, pd.DataFrame(bins, columns=[*keys, "bin", "lower_s", "share"])


def zones(
    client: InfluxClient,
    scope: Scope,
    window: Window,
    now: datetime | None = None,
    sample_size: int = DWELL_SAMPLE,
) -> Zones:
    """Occupancy per zone, and dwell: exact count and mean per zone; percentiles and the
    histogram from the zone's dwell values, or from a random sample of `sample_size` of them
    when it had more visits (InfluxQL's sample(): one pass instead of one per percentile)."""
    window = _so_far(window, scope, now)
    m = client.measurement
    interval = bucket(window)
    condition = where(scope, window, zones=True)
    by_zone = 'GROUP BY "store", "node", "zone"'
    # Minute-level occupancy is the bulk of the data: a long range is read in parts, side by
    # side, so InfluxDB works on them with all its cores.
    parts = window.split(PART_DAYS)
    stats, samples, *occupancy = client.query_many(
        [
            f'SELECT count("seconds") AS "visits", mean("seconds") AS "mean_s" '
            f"FROM {m('dwell')} WHERE {condition} {by_zone}",
            f'SELECT sample("seconds", {int(sample_size)}) AS "seconds" '
            f"FROM {m('dwell')} WHERE {condition} {by_zone}",
            *(
                f'SELECT mean("people") AS "people" FROM {m("occupancy")} '
                f"WHERE {where(scope, part, zones=True)} "
                f'GROUP BY time({interval}), "store", "node", "zone" fill(none) {_tz(scope)}'
                for part in parts
            ),
        ]
    )
    occupancy_frame = _ensure(
        to_frame([one for answer in occupancy for one in answer], scope.tz),
        ["time", "store", "node", "zone", "people"],
    )
    stats_frame, samples_frame = to_frame(stats), to_frame(samples)
    if stats_frame.empty or samples_frame.empty:
        dwell = pd.DataFrame(columns=["store", "node", "zone", "visits", "mean_s", "sampled"])
        histogram = pd.DataFrame(columns=["store", "node", "zone", "bin", "lower_s", "share"])
    else:
        dwell, histogram = _distributions(stats_frame.drop(columns=["time"]), samples_frame)
    return Zones(interval=interval, occupancy=occupancy_frame, dwell=dwell, histogram=histogram)


# --- Personas, shelves, displays -------------------------------------------------------------


@dataclass(frozen=True)
class Personas:
    mix: pd.DataFrame  # persona, visits, share, mean_duration_s, group_size
    daily: pd.DataFrame  # day, persona, visitors

    @property
    def empty(self) -> bool:
        return bool(self.mix.empty and self.daily.empty)


def personas(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Personas:
    window = _so_far(window, scope, now)
    m = client.measurement
    known = "\"persona\" != ''"
    mix, daily = client.query_many(
        [
            f'SELECT count("duration_s") AS "visits", mean("duration_s") AS "mean_duration_s", '
            f'mean("group_size") AS "group_size" FROM {m("visit")} '
            f'WHERE {where(scope, window, extra=[known])} GROUP BY "persona"',
            # `visitors` counts since the node's midnight: a day's figure is its maximum.
            f'SELECT max("visitors") AS "visitors" FROM {m("personas")} '
            f'WHERE {where(scope, window)} GROUP BY time(1d), "store", "node", "persona" '
            f"fill(none) {_tz(scope)}",
        ]
    )
    mix_frame = to_frame(mix)
    if not mix_frame.empty:
        mix_frame = mix_frame.drop(columns=["time"])
        mix_frame["share"] = mix_frame["visits"] / mix_frame["visits"].sum()
        mix_frame = mix_frame[["persona", "visits", "share", "mean_duration_s", "group_size"]]
        mix_frame = mix_frame.sort_values("visits", ascending=False).reset_index(drop=True)
    daily_frame = to_frame(daily, scope.tz)
    if not daily_frame.empty:
        daily_frame = (
            daily_frame.assign(day=daily_frame["time"].dt.date)
            .groupby(["day", "persona"], as_index=False)["visitors"]
            .sum()
        )
        daily_frame["visitors"] = daily_frame["visitors"].astype("int64")
    return Personas(mix=mix_frame, daily=daily_frame)


@dataclass(frozen=True)
class Shelves:
    interval: str
    levels: pd.DataFrame  # time, store, node, shelf, level
    latest: pd.DataFrame  # store, node, shelf, level, status
    changes: pd.DataFrame  # store, node, shelf, product, taken, returned, ...

    @property
    def empty(self) -> bool:
        return bool(self.levels.empty and self.changes.empty)


CHANGES: Final = ("taken", "returned", "restocked", "low", "empty")


def shelves(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Shelves:
    window = _so_far(window, scope, now)
    m = client.measurement
    interval = bucket(window)
    condition = where(scope, window)
    levels, latest, changes = client.query_many(
        [
            f'SELECT mean("level") AS "level" FROM {m("stock")} WHERE {condition} '
            f'GROUP BY time({interval}), "store", "node", "shelf" fill(none) {_tz(scope)}',
            f'SELECT last("level") AS "level", last("status") AS "status" FROM {m("stock")} '
            f'WHERE {condition} GROUP BY "store", "node", "shelf"',
            f'SELECT sum("count") AS "n" FROM {m("shelf")} WHERE {condition} '
            'GROUP BY "store", "node", "shelf", "product", "change"',
        ]
    )
    latest_frame = to_frame(latest)
    if not latest_frame.empty:
        latest_frame = latest_frame[["store", "node", "shelf", "level", "status"]]
    change_frame = to_frame(changes)
    if not change_frame.empty:
        change_frame = _ensure(change_frame, ["product"])
        change_frame["product"] = change_frame["product"].fillna("")
        table = change_frame.pivot_table(
            index=["store", "node", "shelf", "product"], columns="change", values="n", aggfunc="sum"
        )
        order = [c for c in CHANGES if c in table.columns] + [
            c for c in table.columns if c not in CHANGES
        ]
        change_frame = table.reindex(columns=order).fillna(0).astype("int64").reset_index()
        change_frame.columns.name = None
    return Shelves(
        interval=interval,
        levels=to_frame(levels, scope.tz),
        latest=latest_frame,
        changes=change_frame,
    )


@dataclass(frozen=True)
class Displays:
    summary: pd.DataFrame  # store, node, display, offer, passers, looked, look_rate, ...
    daily: pd.DataFrame  # day, display, passers, looked

    @property
    def empty(self) -> bool:
        return bool(self.summary.empty)


def displays(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Displays:
    window = _so_far(window, scope, now)
    m = client.measurement
    condition = where(scope, window)
    looked = where(scope, window, extra=['"looked" = true'])
    keys = 'GROUP BY "store", "node", "display", "offer"'
    passers, lookers, daily_passers, daily_lookers = client.query_many(
        [
            f'SELECT sum("count") AS "passers", mean("duration_s") AS "duration_s" '
            f"FROM {m('impression')} WHERE {condition} {keys}",
            f'SELECT sum("count") AS "looked", mean("attention_s") AS "attention_s" '
            f"FROM {m('impression')} WHERE {looked} {keys}",
            f'SELECT sum("count") AS "passers" FROM {m("impression")} WHERE {condition} '
            f'GROUP BY time(1d), "display" fill(none) {_tz(scope)}',
            f'SELECT sum("count") AS "looked" FROM {m("impression")} WHERE {looked} '
            f'GROUP BY time(1d), "display" fill(none) {_tz(scope)}',
        ]
    )
    summary = to_frame(passers)
    if summary.empty:
        return Displays(summary=pd.DataFrame(), daily=pd.DataFrame())
    index = ["store", "node", "display", "offer"]
    summary = _ensure(summary.drop(columns=["time"]), index)
    summary["offer"] = summary["offer"].fillna("")
    looks = to_frame(lookers)
    if looks.empty:
        looks = pd.DataFrame(columns=[*index, "looked", "attention_s"])
    else:
        looks = _ensure(looks.drop(columns=["time"]), index)
        looks["offer"] = looks["offer"].fillna("")
    summary = summary.merge(looks, on=index, how="left")
    summary["looked"] = summary["looked"].fillna(0).astype("int64")
    summary["passers"] = summary["passers"].astype("int64")
    summary["look_rate"] = summary["looked"] / summary["passers"]
    summary = summary[
        [*index, "passers", "looked", "look_rate", "attention_s", "duration_s"]
    ].sort_values(index)
    per_day = to_frame(daily_passers, scope.tz)
    per_day_looked = to_frame(daily_lookers, scope.tz)
    if per_day_looked.empty:
        per_day = per_day.assign(looked=0)
    else:
        per_day = per_day.merge(per_day_looked, on=["time", "display"], how="left")
    per_day = per_day.assign(day=per_day["time"].dt.date, looked=per_day["looked"].fillna(0))
    per_day = per_day[["day", "display", "passers", "looked"]].astype(
        {"passers": "int64", "looked": "int64"}
    )
    return Displays(summary=summary.reset_index(drop=True), daily=per_day)
