"""The mean head count per zone and GROUP BY time() interval, for the Zones & dwell page.

Hourly charts take the hourly rollup (`occupancy_1h`, docs/data-model.md): per zone and hour,
the sum and the number of the minute readings. Sums and counts add up, so an hour's mean comes
out exactly as the mean of its readings (an average of averages would not), and its points are
read as they are, with no GROUP BY time() for InfluxDB to work through. The readings
themselves are summed where the rollup cannot stand in for them: before a zone's first rollup
point in the range (history written before the export wrote a rollup), zones without any
rollup, the last minutes, whose hour the export has not closed yet (coverage.py cuts a window
into these parts), and time zones whose offset from UTC is not whole hours (their local hours
are not the rollup's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

import numpy as np
import pandas as pd

from streamlit_app.influxql import InfluxClient, Series
from streamlit_app.queries import coverage
from streamlit_app.queries.base import Scope, Window, ensure, tz_clause, where

READINGS: Final = "occupancy"
ROLLUP: Final = "occupancy_1h"
ROLLUP_INTERVAL: Final = "1h"  # one slot per bucket; finer buckets need the readings
PART_DAYS: Final = 21  # long ranges are read in parts of this size, side by side
KEYS: Final = coverage.KEYS
COLUMNS: Final = ("time", *KEYS, "people")
_SUMS: Final = ("people_sum", "readings")


def coverage_statement(
    client: InfluxClient, scope: Scope, window: Window, interval: str
) -> str | None:
    """The statement that finds each zone's first rollup point before the settled end of the
    window; None when the readings alone answer (fine buckets, a short window)."""
    if interval != ROLLUP_INTERVAL or not _whole_hours(window):
        return None
    return coverage.statement(client, scope, window, ROLLUP, "readings")


def statements(
    client: InfluxClient,
    scope: Scope,
    window: Window,
    interval: str,
    first_points: Sequence[Series] | None,
) -> list[str]:
    """Every statement the window needs, given the answer of `coverage_statement` (None: it
    had none)."""
    if first_points is None:
        return _sums(client, scope, READINGS, window, interval)
    found: list[str] = []
    for part in coverage.parts(first_points, window):
        measurement = ROLLUP if part.rollup else READINGS
        found += _sums(client, scope, measurement, part.window, interval, extra=part.extra)
    return found


def combine(answers: Sequence[Sequence[Series]], scope: Scope) -> pd.DataFrame:
    """One table (time, store, node, zone, people) from the answers of `statements`."""
    # Plain columns of numbers gathered from the answers' rows, zones as numbers: a quarter is
    # some 150 series of hundreds of rows each, too many for a frame (or a string) per row.
    gathered: dict[str, list[float]] = {"ms": [], "zone": [], "people_sum": [], "readings": []}
    zones: dict[tuple[str, ...], int] = {}
    hour_ms = coverage.SLOT_S * 1000
    for answer in answers:
        for one in answer:
            rows = one.values
            at, people, readings = (one.columns.index(c) for c in ("time", *_SUMS))
            # A rollup point sits inside its hour; a bucket is named by its start.
            floor = hour_ms if one.name == ROLLUP else 1
            gathered["ms"] += [row[at] - row[at] % floor for row in rows]
            gathered["people_sum"] += [row[people] for row in rows]
            gathered["readings"] += [row[readings] for row in rows]
            zone = tuple(one.tags.get(k, "") for k in KEYS)
            gathered["zone"] += [zones.setdefault(zone, len(zones))] * len(rows)
    if not gathered["ms"]:
        return ensure(pd.DataFrame(), COLUMNS)
    table = pd.DataFrame({name: np.array(values, dtype=float) for name, values in gathered.items()})
    table = table.groupby(["ms", "zone"], as_index=False)[list(_SUMS)].sum()
    names = np.array(list(zones), dtype=object).reshape(-1, len(KEYS))
    for i, key in enumerate(KEYS):
        table[key] = names[table["zone"].to_numpy(dtype=int), i]
    utc = pd.to_datetime(table["ms"].astype("int64"), unit="ms", utc=True)
    table["time"] = utc.dt.tz_convert(scope.tz)
    table["people"] = table["people_sum"] / table["readings"]
    return table[list(COLUMNS)].sort_values([*KEYS, "time"]).reset_index(drop=True)


def _whole_hours(window: Window) -> bool:
    """Whether the window's local hours are hours of UTC (its offset at every midnight)."""
    moments, day = [window.end], window.start
    while day < window.end:
        moments.append(day)
        day += timedelta(days=1)
    offsets = {moment.utcoffset() or timedelta(0) for moment in moments}
    return all(offset.total_seconds() % coverage.SLOT_S == 0 for offset in offsets)


def _sums(
    client: InfluxClient,
    scope: Scope,
    measurement: str,
    window: Window,
    interval: str,
    *,
    extra: Sequence[str] = (),
) -> list[str]:
    """Sum and count of the readings per zone and interval (the rollup holds both already)."""
    if window.span <= timedelta(0):
        return []
    if measurement == ROLLUP:  # one point an hour already: read as it is
        fields = '"people_sum", "readings"'
        group = 'GROUP BY "store", "node", "zone"'
    else:
        fields = 'sum("people") AS "people_sum", count("people") AS "readings"'
        group = f'GROUP BY time({interval}), "store", "node", "zone" fill(none) {tz_clause(scope)}'
    return [
        f"SELECT {fields} FROM {client.measurement(measurement)} "
        f"WHERE {where(scope, part, zones=True, extra=extra)} {group}"
        for part in window.split(PART_DAYS)
    ]
