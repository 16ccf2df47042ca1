"""The Displays page's numbers: passers-by, lookers and attention per display and offer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from streamlit_app.influxql import InfluxClient, to_frame
from streamlit_app.queries.base import Scope, Window, ensure, so_far, tz_clause, where


@dataclass(frozen=True)
class Displays:
    summary: pd.DataFrame  # store, node, display, offer, passers, looked, look_rate, ...
    daily: pd.DataFrame  # day, display, passers, looked
    # Tags hit and missed: impressions credited to the offer on screen and how many engaged,
    # by the offer's tags, the audience's leading persona and the part of day.
    by_tag: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_persona: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_part_of_day: pd.DataFrame = field(default_factory=pd.DataFrame)

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
    by_tag, by_persona, by_part = _engagement(client, condition)
    return Displays(
        summary=summary.reset_index(drop=True),
        daily=per_day,
        by_tag=by_tag,
        by_persona=by_persona,
        by_part_of_day=by_part,
    )


def _engagement(
    client: InfluxClient, condition: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Engagement by tag (offer_tag), by persona and by part of day (offer_impression)."""
    m = client.measurement
    fields = 'sum("count") AS "impressions", sum("engaged") AS "engaged"'
    results = client.query_many(
        [
            f'SELECT {fields} FROM {m("offer_tag")} WHERE {condition} GROUP BY "tag"',
            f'SELECT {fields} FROM {m("offer_impression")} WHERE {condition} GROUP BY "persona"',
            f"SELECT {fields} FROM {m('offer_impression')} WHERE {condition} "
            'GROUP BY "part_of_day"',
        ]
    )
    frames = []
    for key, result in zip(("tag", "persona", "part_of_day"), results, strict=True):
        frame = to_frame(result)
        if frame.empty:
            frames.append(pd.DataFrame())
            continue
        frame = ensure(frame.drop(columns=["time"]), [key])
        frame = frame.astype({"impressions": "int64", "engaged": "int64"})
        frame["engagement_rate"] = frame["engaged"] / frame["impressions"]
        frame = frame[[key, "impressions", "engaged", "engagement_rate"]]
        frames.append(frame.sort_values("engagement_rate", ascending=False, ignore_index=True))
    return frames[0], frames[1], frames[2]
