"""Which part of a window the export's hourly rollups answer, zone by zone, and which part
must be read from the points they summarise (docs/data-model.md, "The hourly rollups").

A zone's rollup is read from the hour after its first rollup point in the window: that hour
may hold points from before the rollup began (history written by an older version of the
export). Before it, zones without any rollup and the last minutes, whose hour the export has
not closed yet, are read from the points themselves. Both rollups (`occupancy_1h`, `dwell_1h`)
are cut the same way; what is read from each part is up to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from streamlit_app.influxql import InfluxClient, Series, quote_ident, quote_literal, to_frame
from streamlit_app.queries.base import Scope, Window, ensure, where

SLOT_S: Final = 3600  # the rollups' slots: hours of UTC
# The export closes a slot at its zone's first point after the slot, or within a minute for a
# quiet zone: the minutes before the end of a range are read from the points.
SETTLE: Final = timedelta(minutes=5)
# Zones whose rollups begin within a day of each other are read as one group, from the latest
# beginning: at most a day of extra points per zone, instead of two queries per zone.
GROUP_WITHIN: Final = timedelta(days=1)
KEYS: Final = ("store", "node", "zone")

Zone = tuple[str, str, str]  # store, node, zone


@dataclass(frozen=True)
class Part:
    """One piece of a window: read from the rollup or from the points, for the zones that
    `extra` (WHERE conditions, ANDed) selects."""

    window: Window
    rollup: bool
    extra: tuple[str, ...] = ()


def slot_floor(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % SLOT_S, moment.tzinfo)


def rolled(window: Window) -> Window:
    """The part of the window a rollup may answer: up to a slot that has settled."""
    return Window(window.start, max(window.start, slot_floor(window.end - SETTLE)))


def statement(
    client: InfluxClient, scope: Scope, window: Window, measurement: str, field: str
) -> str | None:
    """The statement that finds each zone's first rollup point before the settled end of the
    window; None when the window has no settled slot."""
    settled = rolled(window)
    if settled.span <= timedelta(0):
        return None
    return (
        f"SELECT first({quote_ident(field)}) AS {quote_ident(field)} "
        f"FROM {client.measurement(measurement)} "
        f'WHERE {where(scope, settled, zones=True)} GROUP BY "store", "node", "zone"'
    )


def parts(first_points: Sequence[Series], window: Window) -> list[Part]:
    """The pieces of `window` given the answer of `statement`: together they hold every zone's
    points of the window once (empty pieces are left out). A zone's rollup is read from the
    hour after its first rollup point to the settled end; the points before and after that,
    and all of a zone without any rollup."""
    settled = rolled(window)
    found: list[Part] = []
    grouped: list[Zone] = []
    for boundary, zones in _groups(first_points, settled.end):
        found.append(Part(Window(window.start, boundary), rollup=False, extra=(_any_of(zones),)))
        found.append(Part(Window(boundary, settled.end), rollup=True, extra=(_any_of(zones),)))
        grouped += zones
    if grouped:
        found.append(Part(Window(settled.end, window.end), rollup=False, extra=(_any_of(grouped),)))
    # Zones without a rollup in one piece: with none at all, as if there were no rollups.
    found.append(Part(window, rollup=False, extra=(_none_of(grouped),) if grouped else ()))
    return [part for part in found if part.window.span > timedelta(0)]


def _groups(first_points: Sequence[Series], end: datetime) -> list[tuple[datetime, list[Zone]]]:
    """Zones by where their rollup takes over: after the slot of their first rollup point
    (that slot may hold points from before it). Zones that would begin at `end` are left
    out; they are read from their points."""
    table = ensure(to_frame(first_points), ["time", *KEYS])
    starts: list[tuple[datetime, Zone]] = []
    columns = (table[c].tolist() for c in ["time", *KEYS])
    for ms, store, node, zone in zip(*columns, strict=True):
        first = datetime.fromtimestamp(int(ms) / 1000, end.tzinfo)
        boundary = slot_floor(first) + timedelta(seconds=SLOT_S)
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
