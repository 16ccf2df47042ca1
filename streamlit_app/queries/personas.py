"""The Personas page's numbers: the persona mix of visits (with the part from simulated nodes),
the mix by hour of day and by weekday, dwell by persona and zone, and visitors per persona and
day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from streamlit_app.influxql import InfluxClient, to_frame
from streamlit_app.queries.base import Scope, Window, so_far, tz_clause, where

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Personas:
    mix: pd.DataFrame  # persona, visits, share, mean_duration_s, group_size, simulated
    by_hour: pd.DataFrame  # hour (local, 0-23), persona, visits
    by_weekday: pd.DataFrame  # weekday (Monday..Sunday), persona, visits
    by_zone: pd.DataFrame  # zone, persona, visits, mean_dwell_s
    daily: pd.DataFrame  # day, persona, visitors

    @property
    def empty(self) -> bool:
        return bool(self.mix.empty and self.daily.empty)


def load(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Personas:
    window = so_far(window, scope, now)
    m = client.measurement
    persona_known = "\"persona\" != ''"
    visits = where(scope, window, extra=[persona_known])
    mix, hourly, zones, daily = client.query_many(
        [
            # Sums rather than means: the simulated and the camera nodes' parts add up exactly.
            f'SELECT count("duration_s") AS "visits", sum("duration_s") AS "duration_sum", '
            f'sum("group_size") AS "group_sum", count("group_size") AS "group_n" '
            f'FROM {m("visit")} WHERE {visits} GROUP BY "persona", "synthetic"',
            f'SELECT count("duration_s") AS "visits" FROM {m("visit")} WHERE {visits} '
            f'GROUP BY time(1h), "persona" fill(none) {tz_clause(scope)}',
            f'SELECT count("seconds") AS "visits", mean("seconds") AS "mean_dwell_s" '
            f"FROM {m('dwell')} WHERE {where(scope, window, zones=True, extra=[persona_known])} "
            f'GROUP BY "zone", "persona"',
            # `visitors` counts since the node's midnight: a day's figure is its maximum.
            f'SELECT max("visitors") AS "visitors" FROM {m("personas")} '
            f'WHERE {where(scope, window)} GROUP BY time(1d), "store", "node", "persona" '
            f"fill(none) {tz_clause(scope)}",
        ]
    )
    by_hour, by_weekday = _through_the_week(to_frame(hourly, scope.tz))
    return Personas(
        mix=_mix(to_frame(mix)),
        by_hour=by_hour,
        by_weekday=by_weekday,
        by_zone=_by_zone(to_frame(zones)),
        daily=_daily(to_frame(daily, scope.tz)),
    )


def _mix(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per persona; `simulated` counts the visits of simulated nodes among them."""
    if frame.empty:
        return frame
    synthetic = frame["synthetic"] if "synthetic" in frame else pd.Series("", index=frame.index)
    simulated = synthetic == "true"
    frame = frame.assign(
        simulated=frame["visits"].where(simulated, 0),
        group_sum=frame["group_sum"].fillna(0),
        group_n=frame["group_n"].fillna(0),
    )
    sums = ["visits", "duration_sum", "group_sum", "group_n", "simulated"]
    mix = frame.groupby("persona", as_index=False)[sums].sum()
    mix["share"] = mix["visits"] / mix["visits"].sum()
    mix["mean_duration_s"] = mix["duration_sum"] / mix["visits"]
    mix["group_size"] = (mix["group_sum"] / mix["group_n"]).where(mix["group_n"] > 0)
    mix = mix.astype({"visits": "int64", "simulated": "int64"})
    columns = ["persona", "visits", "share", "mean_duration_s", "group_size", "simulated"]
    return mix[columns].sort_values("visits", ascending=False).reset_index(drop=True)


def _through_the_week(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits per persona by local hour of day and by weekday, over the whole range."""
    if frame.empty:
        empty = pd.DataFrame(columns=["persona", "visits"])
        return empty.assign(hour=pd.Series(dtype="int64")), empty.assign(weekday=[])
    frame = frame.assign(hour=frame["time"].dt.hour, weekday=frame["time"].dt.day_name())
    by_hour = frame.groupby(["hour", "persona"], as_index=False)[["visits"]].sum()
    by_weekday = frame.groupby(["weekday", "persona"], as_index=False)[["visits"]].sum()
    by_weekday["weekday"] = pd.Categorical(by_weekday["weekday"], WEEKDAYS, ordered=True)
    by_weekday = by_weekday.sort_values(["weekday", "persona"]).reset_index(drop=True)
    by_weekday["weekday"] = by_weekday["weekday"].astype(str)
    return by_hour.astype({"visits": "int64"}), by_weekday.astype({"visits": "int64"})


def _by_zone(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    frame = frame[["zone", "persona", "visits", "mean_dwell_s"]].astype({"visits": "int64"})
    return frame.sort_values(["zone", "visits"], ascending=[True, False]).reset_index(drop=True)


def _daily(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    daily = (
        frame.assign(day=frame["time"].dt.date)
        .groupby(["day", "persona"], as_index=False)[["visitors"]]
        .sum()
    )
    return daily.astype({"visitors": "int64"})
