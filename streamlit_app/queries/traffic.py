"""The Traffic page's numbers: entries and exits per hour, weekday and counting line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pandas as pd

from streamlit_app.influxql import InfluxClient, to_frame
from streamlit_app.queries.base import Scope, Window, so_far, tz_clause, where

WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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
        table = frame.groupby(["weekday", "hour"], as_index=False)[["entries"]].mean()
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


def load(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Traffic:
    window = so_far(window, scope, now)
    m = client.measurement
    condition = where(scope, window, lines=True)
    hourly, lines = client.query_many(
        [
            f'SELECT sum("count") AS "n" FROM {m("crossing")} WHERE {condition} '
            f'GROUP BY time(1h), "direction" fill(0) {tz_clause(scope)}',
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
