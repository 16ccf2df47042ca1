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

import pandas as pd

from streamlit_app.influxql import InfluxClient, Series, to_frame
from streamlit_app.queries import coverage
from streamlit_app.queries.base import Scope, Window, ensure, tz_clause, where

READINGS: Final = "occupancy"
ROLLUP: Final = "occupancy_1h"
ROLLUP_INTERVAL: Final = "1h"  # one slot per bucket; finer buckets need the readings
PART_DAYS: Final = 21  # long ranges are read in parts of this size, side by side
KEYS: Final = coverage.KEYS
COLUMNS: Final = ("time", *KEYS, "people")


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
    frames = []
    for answer in answers:
        for one in answer:
            frame = to_frame([one], scope.tz)
            if one.name == ROLLUP:
                # A rollup point sits inside its hour; a bucket is named by its start.
                utc = frame["time"].dt.tz_convert("UTC").dt.floor("h")
                frame["time"] = utc.dt.tz_convert(scope.tz)
            frames.append(frame)
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return ensure(pd.DataFrame(), COLUMNS)
    table = ensure(pd.concat(frames, ignore_index=True), COLUMNS)
    table = table.groupby(["time", *KEYS], as_index=False)[["people_sum", "readings"]].sum()
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
