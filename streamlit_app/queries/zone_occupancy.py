"""The mean head count per zone and GROUP BY time() interval, for the Zones & dwell page.

Hourly charts take the hourly rollup (`occupancy_1h`, docs/data-model.md): per zone and hour,
the sum and the number of the minute readings. Sums and counts add up, so an hour's mean comes
out exactly as the mean of its readings (an average of averages would not), and its points are
read as they are, with no GROUP BY time() for InfluxDB to work through. The readings
themselves are summed where the rollup cannot stand in for them: before a zone's first rollup
point in the range (history written before the export wrote a rollup), zones without any
rollup, the last minutes, whose hour the export has not closed yet, and time zones whose
offset from UTC is not whole hours (their local hours are not the rollup's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

import pandas as pd

from streamlit_app.influxql import InfluxClient, Series, quote_ident, quote_literal, to_frame
from streamlit_app.queries.base import Scope, Window, ensure, tz_clause, where

READINGS: Final = "occupancy"
ROLLUP: Final = "occupancy_1h"
SLOT_S: Final = 3600  # the rollup's slots: hours of UTC
ROLLUP_INTERVAL: Final = "1h"  # one slot per bucket; finer buckets need the readings
# The export closes a slot at its first reading after the slot, or within a minute for a
# quiet node: the minutes before the end of a range are read from the readings.
SETTLE: Final = timedelta(minutes=5)
# Zones whose rollups begin within a day of each other are read as one group, from the latest
# beginning: at most a day of extra readings per zone, instead of two queries per zone.
GROUP_WITHIN: Final = timedelta(days=1)
PART_DAYS: Final = 21  # long ranges are read in parts of this size, side by side
KEYS: Final = ("store", "node", "zone")
COLUMNS: Final = ("time", *KEYS, "people")

Zone = tuple[str, str, str]  # store, node, zone


def _slot_floor(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % SLOT_S, moment.tzinfo)


def coverage(client: InfluxClient, scope: Scope, window: Window, interval: str) -> str | None:
    """The statement that finds each zone's first rollup point before the settled end of the
    window; None when the readings alone answer (fine buckets, a short window)."""
    rolled = _rolled(window)
    if interval != ROLLUP_INTERVAL or rolled.span <= timedelta(0) or not _whole_hours(window):
        return None
    return (
        f'SELECT first("readings") AS "readings" FROM {client.measurement(ROLLUP)} '
        f'WHERE {where(scope, rolled, zones=True)} GROUP BY "store", "node", "zone"'
    )


def statements(
    client: InfluxClient,
    scope: Scope,
    window: Window,
    interval: str,
    first_points: Sequence[Series] | None,
) -> list[str]:
    """Every statement the window needs, given the answer of `coverage` (None: it had none)."""
    if first_points is None:
        return _sums(client, scope, READINGS, window, interval)
    rolled = _rolled(window)
    found: list[str] = []
    grouped: list[Zone] = []
    for boundary, zones in _groups(first_points, rolled.end):
        before = Window(window.start, boundary)
        found += _sums(client, scope, READINGS, before, interval, zones=zones)
        found += _sums(client, scope, ROLLUP, Window(boundary, rolled.end), interval, zones=zones)
        grouped += zones
    without = [_none_of(grouped)] if grouped else []
    found += _sums(client, scope, READINGS, rolled, interval, extra=without)
    found += _sums(client, scope, READINGS, Window(rolled.end, window.end), interval)
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
    return all(offset.total_seconds() % SLOT_S == 0 for offset in offsets)


def _rolled(window: Window) -> Window:
    """The part of the window the rollup may answer: up to a slot that has settled."""
    return Window(window.start, max(window.start, _slot_floor(window.end - SETTLE)))


def _groups(first_points: Sequence[Series], end: datetime) -> list[tuple[datetime, list[Zone]]]:
    """Zones by where their rollup takes over: after the slot of their first rollup point
    (that slot may hold readings from before it). Zones that would begin at `end` are left
    out; they are read from their readings."""
    table = ensure(to_frame(first_points), ["time", *KEYS])
    starts: list[tuple[datetime, Zone]] = []
    columns = (table[c].tolist() for c in ["time", *KEYS])
    for ms, store, node, zone in zip(*columns, strict=True):
        first = datetime.fromtimestamp(int(ms) / 1000, end.tzinfo)
        boundary = _slot_floor(first) + timedelta(seconds=SLOT_S)
        if boundary < end:
            starts.append((boundary, (str(store), str(node), str(zone))))
    groups: list[tuple[datetime, list[Zone]]] = []
    opened: datetime | None = None
    for boundary, key in sorted(starts):
        if opened is None or boundary - opened > GROUP_WITHIN:
            opened = boundary
            groups.append((boundary, []))
        groups[-1] = (boundary, [*groups[-1][1], key])
    return groups


def _sums(
    client: InfluxClient,
    scope: Scope,
    measurement: str,
    window: Window,
    interval: str,
    *,
    zones: Sequence[Zone] = (),
    extra: Sequence[str] = (),
) -> list[str]:
    """Sum and count of the readings per zone and interval (the rollup holds both already)."""
    if window.span <= timedelta(0):
        return []
    if zones:
        extra = [*extra, _any_of(zones)]
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


def _is(zone: Zone, operator: str) -> list[str]:
    return [
        f"{quote_ident(key)} {operator} {quote_literal(value)}"
        for key, value in zip(KEYS, zone, strict=True)
    ]


def _any_of(zones: Sequence[Zone]) -> str:
    return "(" + " OR ".join("(" + " AND ".join(_is(z, "=")) + ")" for z in zones) + ")"


def _none_of(zones: Sequence[Zone]) -> str:
    # InfluxQL has no NOT: "not this zone" is "another store, node or zone name".
    return "(" + " AND ".join("(" + " OR ".join(_is(z, "!=")) + ")" for z in zones) + ")"
