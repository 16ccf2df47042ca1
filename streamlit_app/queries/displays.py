"""The Displays page's numbers: passers-by, lookers and attention per display and offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from streamlit_app.influxql import InfluxClient, to_frame
from streamlit_app.queries.base import Scope, Window, ensure, so_far, tz_clause, where


@dataclass(frozen=True)
class Displays:
    summary: pd.DataFrame  # store, node, display, offer, passers, looked, look_rate, ...
    daily: pd.DataFrame  # day, display, passers, looked

    @property
    def empty(self) -> bool:
        return bool(self.summary.empty)


def load(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Displays:
    window = so_far(window, scope, now)
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
            f'GROUP BY time(1d), "display" fill(none) {tz_clause(scope)}',
            f'SELECT sum("count") AS "looked" FROM {m("impression")} WHERE {looked} '
            f'GROUP BY time(1d), "display" fill(none) {tz_clause(scope)}',
        ]
    )
    summary = to_frame(passers)
    if summary.empty:
        return Displays(summary=pd.DataFrame(), daily=pd.DataFrame())
    index = ["store", "node", "display", "offer"]
    summary = ensure(summary.drop(columns=["time"]), index)
    summary["offer"] = summary["offer"].fillna("")
    looks = to_frame(lookers)
    if looks.empty:
        looks = pd.DataFrame(columns=[*index, "looked", "attention_s"])
    else:
        looks = ensure(looks.drop(columns=["time"]), index)
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
