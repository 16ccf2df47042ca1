"""The Personas page's numbers: the persona mix of visits and visitors per persona and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from streamlit_app.influxql import InfluxClient, to_frame
from streamlit_app.queries.base import Scope, Window, so_far, tz_clause, where


@dataclass(frozen=True)
class Personas:
    mix: pd.DataFrame  # persona, visits, share, mean_duration_s, group_size
    daily: pd.DataFrame  # day, persona, visitors

    @property
    def empty(self) -> bool:
        return bool(self.mix.empty and self.daily.empty)


def load(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Personas:
    window = so_far(window, scope, now)
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
            f"fill(none) {tz_clause(scope)}",
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
            .groupby(["day", "persona"], as_index=False)[["visitors"]]
            .sum()
        )
        daily_frame["visitors"] = daily_frame["visitors"].astype("int64")
    return Personas(mix=mix_frame, daily=daily_frame)
