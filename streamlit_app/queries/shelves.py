"""The Shelves page's numbers: stock levels through time, the latest level and status, and
shelf changes per product."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pandas as pd

from streamlit_app.influxql import InfluxClient, to_frame
from streamlit_app.queries.base import Scope, Window, bucket, ensure, so_far, tz_clause, where


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


def load(
    client: InfluxClient, scope: Scope, window: Window, now: datetime | None = None
) -> Shelves:
    window = so_far(window, scope, now)
    m = client.measurement
    interval = bucket(window)
    condition = where(scope, window)
    levels, latest, changes = client.query_many(
        [
            f'SELECT mean("level") AS "level" FROM {m("stock")} WHERE {condition} '
            f'GROUP BY time({interval}), "store", "node", "shelf" fill(none) {tz_clause(scope)}',
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
        change_frame = ensure(change_frame, ["product"])
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
