"""The Overview page's numbers: a day's headline figures against the same weekday a week
earlier, entries per hour and the head count through the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import pandas as pd

from streamlit_app.influxql import InfluxClient, Series, to_frame
from streamlit_app.queries.base import Scope, Window, so_far, tz_clause, where

WEEK: Final = timedelta(days=7)
OCCUPANCY_SLOT: Final = "5min"  # the overview's head count curve: the peak of each slot
ENTRIES: Final = "\"direction\" = 'in'"


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
        f"GROUP BY time(1h) fill(0) {tz_clause(scope)}",
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
            {
                "time_of_day": pd.DatetimeIndex(per_slot.index).strftime("%H:%M"),
                "people": per_slot.to_numpy(),
            }
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
        per_hour = per_hour.groupby("hour", as_index=False)[["entries"]].sum()
    return kpis, per_hour, curve


def load(client: InfluxClient, scope: Scope, day: date, now: datetime | None = None) -> Overview:
    """The day's headline numbers against the same weekday a week earlier. While the day is
    still running, both are cut at the same local time ("so far")."""
    whole_day = Window.days(day, day, scope.tz)
    window = so_far(whole_day, scope, now)
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
