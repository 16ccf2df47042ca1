"""How long visits stay in each zone, for the Zones & dwell page: visits, mean, percentiles
and a histogram per zone.

Up to ROLLUP_AFTER (the default week included) from the dwell points themselves: an exact
count and mean, and the values for nearest-rank percentiles and the histogram, all of them up
to `sample_size` a zone and a random sample beyond (InfluxQL's sample(): one pass instead of
one per percentile). Longer ranges take the hourly dwell rollup (`dwell_1h`,
docs/data-model.md): per zone and hour the number of visits, the sum of their seconds and
their counts per bin, one point per zone and hour instead of one per visit. Counts and sums
add up, so visits and mean stay exact, and so does the histogram (its bars are unions of the
rollup's bins); a percentile is read from the bins: it lies in the bin of the exact one,
placed within it by linear interpolation. Where the rollup does not cover (coverage.py), the
dwell points are read as for a short range and binned the same way; a range in which no zone
has a rollup gives exactly the short range's answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from streamlit_app.influxql import InfluxClient, Series, quote_ident
from streamlit_app.queries import coverage
from streamlit_app.queries.base import Scope, Window, where

POINTS: Final = "dwell"
ROLLUP: Final = "dwell_1h"
ROLLUP_AFTER: Final = timedelta(days=8)  # as the occupancy charts: beyond, hourly and rolled up
PART_DAYS: Final = 45  # the rollup is read in parts of this size, side by side
PERCENTILES: Final = (10, 25, 50, 75, 90)
# Dwell percentiles and histogram come from at most this many visits per zone: exact up to
# it (a week or two of a busy node), from a random sample beyond.
DWELL_SAMPLE: Final = 2000
# Dwell histogram bins in seconds; the last one is open.
DWELL_BINS: Final = (0, 10, 30, 60, 120, 300, 600)
# The rollup's bins, as the export writes them (custom_components/storefront/rollup.py,
# DWELL_EDGES): the lower edges in seconds, field `bin_<edge>`; the last one is open.
ROLLUP_EDGES: Final = (
    0, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 90, 105, 120, 150, 180, 240,
    300, 360, 450, 600, 750, 900, 1200, 1800, 2700, 3600, 7200,
)  # fmt: skip
KEYS: Final = list(coverage.KEYS)
TABLE: Final = [*KEYS, "visits", "mean_s", *(f"p{p}" for p in PERCENTILES), "sampled", "binned"]
HISTOGRAM: Final = [*KEYS, "bin", "lower_s", "share"]
_BINS: Final = tuple(f"bin_{edge}" for edge in ROLLUP_EDGES)
_FIELDS: Final = ("visits", "seconds_sum", *_BINS)

Zone = tuple[str, str, str]


@dataclass(frozen=True)
class Query:
    """One statement and what its answer holds: totals (visits, seconds_sum) and bin counts
    of the rollup, or the points' totals or values of one part of the window."""

    statement: str
    kind: str  # "rollup", "totals" or "values"
    part: int  # the part of the window it reads (totals and values of one part go together)


def coverage_statement(client: InfluxClient, scope: Scope, window: Window) -> str | None:
    """Where each zone's rollup begins, for a long window; None when the points answer."""
    if window.span <= ROLLUP_AFTER:
        return None
    return coverage.statement(client, scope, window, ROLLUP, "visits")


def statements(
    client: InfluxClient,
    scope: Scope,
    window: Window,
    first_points: Sequence[Series] | None,
    sample_size: int = DWELL_SAMPLE,
) -> list[Query]:
    """Every statement the window needs, given the answer of `coverage_statement` (None: it
    had none)."""
    if first_points is None:
        parts = [coverage.Part(window, rollup=False)]
    else:
        parts = coverage.parts(first_points, window)
    sums = ", ".join(f"sum({quote_ident(name)}) AS {quote_ident(name)}" for name in _FIELDS)
    totals = 'count("seconds") AS "visits", sum("seconds") AS "seconds_sum"'
    values = f'sample("seconds", {int(sample_size)}) AS "seconds"'
    found: list[Query] = []
    for index, part in enumerate(parts):
        if part.rollup:
            # The slowest statement of a long range (InfluxDB's work grows with the days, the
            # zones and the bins): a quarter in two halves, side by side.
            for piece in part.window.split(PART_DAYS):
                condition = where(scope, piece, zones=True, extra=part.extra)
                found.append(Query(_select(client, ROLLUP, sums, condition), "rollup", index))
            continue
        condition = where(scope, part.window, zones=True, extra=part.extra)
        found.append(Query(_select(client, POINTS, totals, condition), "totals", index))
        found.append(Query(_select(client, POINTS, values, condition), "values", index))
    return found


def _select(client: InfluxClient, measurement: str, fields: str, condition: str) -> str:
    return (
        f"SELECT {fields} FROM {client.measurement(measurement)} WHERE {condition} "
        'GROUP BY "store", "node", "zone"'
    )


@dataclass
class _ZoneParts:
    """What the answers say about one zone."""

    rolled: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(ROLLUP_EDGES)))
    rolled_visits: int = 0
    visits: int = 0
    seconds_sum: float = 0.0
    counted: dict[int, int] = field(default_factory=dict)  # part -> visits
    values: dict[int, npt.NDArray[np.float64]] = field(default_factory=dict)  # part -> seconds


def combine(
    queries: Sequence[Query], answers: Sequence[Sequence[Series]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table (store, node, zone, visits, mean_s, p10 .. p90, sampled, binned) and the
    histogram (store, node, zone, bin, lower_s, share) from the answers of `statements`."""
    zones: dict[Zone, _ZoneParts] = {}
    # Plain Python over the answers' rows: a zone's few rows per statement, no frames needed.
    for query, answer in zip(queries, answers, strict=True):
        for one in answer:
            key = (one.tags.get("store", ""), one.tags.get("node", ""), one.tags.get("zone", ""))
            zone = zones.setdefault(key, _ZoneParts())
            if query.kind == "values":
                column = one.columns.index("seconds")
                zone.values[query.part] = np.array([r[column] for r in one.values], dtype=float)
                continue
            for point in one.values:
                fields = dict(zip(one.columns, point, strict=True))
                visits = int(fields.get("visits") or 0)  # a sum over no points is null
                zone.visits += visits
                zone.seconds_sum += float(fields.get("seconds_sum") or 0.0)
                if query.kind == "rollup":
                    zone.rolled_visits += visits
                    # A bin no visit fell into is not written.
                    zone.rolled += [float(fields.get(name) or 0) for name in _BINS]
                else:
                    zone.counted[query.part] = zone.counted.get(query.part, 0) + visits
    rows, bins = [], []
    for key, zone in sorted(zones.items()):
        if zone.visits == 0:
            continue
        row, shares = _distribution(zone)
        rows.append({**dict(zip(KEYS, key, strict=True)), **row})
        bins += [
            {
                **dict(zip(KEYS, key, strict=True)),
                "bin": _bin_label(lower, upper),
                "lower_s": lower,
                "share": share,
            }
            for lower, upper, share in shares
        ]
    return pd.DataFrame(rows, columns=TABLE), pd.DataFrame(bins, columns=HISTOGRAM)


def _distribution(
    zone: _ZoneParts,
) -> tuple[dict[str, object], list[tuple[int, int | None, float]]]:
    """Figures and histogram of one zone: from its values when they are all the visits read
    (or a sample of the one part that has visits), from bins when a rollup or several sampled
    parts are involved."""
    parts = [part for part, visits in zone.counted.items() if visits > 0]
    complete = all(len(zone.values.get(p, ())) == zone.counted[p] for p in parts)
    row: dict[str, object] = {"visits": zone.visits, "mean_s": zone.seconds_sum / zone.visits}
    values = np.sort(
        np.concatenate([np.zeros(0), *(zone.values.get(p, np.zeros(0)) for p in parts)])
    )
    if zone.rolled_visits == 0 and (complete or len(parts) == 1) and len(values):
        row |= {f"p{p}": nearest_rank(values, p) for p in PERCENTILES}
        row |= {"sampled": not complete, "binned": False}
        counts, _ = np.histogram(values, bins=[*DWELL_BINS, np.inf])
        shares = counts / len(values)
    else:
        estimated = zone.rolled.copy()
        for p in parts:
            # A part's sample stands for all of the part's visits.
            sample = zone.values.get(p, np.zeros(0))
            if len(sample):
                ranks = np.searchsorted(ROLLUP_EDGES, sample, side="right") - 1
                counted = np.bincount(np.maximum(ranks, 0), minlength=len(ROLLUP_EDGES))
                estimated += counted * zone.counted[p] / len(sample)
        row |= {f"p{p}": binned_percentile(estimated, p) for p in PERCENTILES}
        row |= {"sampled": not complete, "binned": True}
        display = np.searchsorted(DWELL_BINS, ROLLUP_EDGES, side="right") - 1
        grouped = np.bincount(display, weights=estimated, minlength=len(DWELL_BINS))
        if grouped.sum() <= 0:
            return row, []
        shares = grouped / grouped.sum()
    return row, [
        (lower, DWELL_BINS[i + 1] if i + 1 < len(DWELL_BINS) else None, float(shares[i]))
        for i, lower in enumerate(DWELL_BINS)
    ]


def nearest_rank(values: npt.NDArray[np.float64], percent: float) -> float:
    """The nearest-rank percentile of sorted `values`, as InfluxQL's percentile() defines it."""
    index = int(len(values) * percent / 100 + 0.5) - 1
    return float(values[min(max(index, 0), len(values) - 1)])


def binned_percentile(counts: npt.NDArray[np.float64], percent: float) -> float:
    """The nearest-rank percentile from visits per rollup bin: in the bin that holds the
    value of that rank, as far into the bin as the rank is among the bin's visits (linear
    interpolation); the lower edge of the last, open bin."""
    total = round(float(counts.sum()))
    if total <= 0:
        return float("nan")
    index = min(max(int(total * percent / 100 + 0.5) - 1, 0), total - 1)
    cumulative = np.cumsum(counts)
    # The first bin whose visits reach past rank `index` (0-based) holds it.
    i = min(int(np.searchsorted(cumulative, index, side="right")), len(counts) - 1)
    lower = float(ROLLUP_EDGES[i])
    if i + 1 == len(ROLLUP_EDGES) or counts[i] <= 0:
        return lower
    before = float(cumulative[i] - counts[i])
    within = min(max((index - before + 0.5) / float(counts[i]), 0.0), 1.0)
    return lower + within * (ROLLUP_EDGES[i + 1] - lower)


def _bin_label(lower: int, upper: int | None) -> str:
    def text(seconds: int) -> str:
        return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"

    return f"{text(lower)}+" if upper is None else f"{text(lower)} to {text(upper)}"
