"""The Zones & dwell page's numbers: occupancy per zone through the day, and dwell time
distributions per zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from streamlit_app.influxql import InfluxClient, to_frame
from streamlit_app.queries import zone_occupancy
from streamlit_app.queries.base import (
    Scope,
    Window,
    bucket,
    label,
    so_far,
    where,
)

PERCENTILES: Final = (10, 25, 50, 75, 90)
# Dwell percentiles and histogram come from at most this many visits per zone: exact up to
# it (a week or two of a busy node), from a random sample beyond.
DWELL_SAMPLE: Final = 2000
# Dwell histogram bins in seconds; the last one is open.
DWELL_BINS: Final = (0, 10, 30, 60, 120, 300, 600)


@dataclass(frozen=True)
class Zones:
    interval: str
    occupancy: pd.DataFrame  # time, store, node, zone, people (mean per interval)
    dwell: pd.DataFrame  # store, node, zone, visits, mean_s, p10 .. p90, sampled
    histogram: pd.DataFrame  # store, node, zone, bin, lower_s, share

    @property
    def empty(self) -> bool:
        return bool(self.occupancy.empty and self.dwell.empty)

    @property
    def sampled(self) -> bool:
        """Percentiles and histogram of some zone come from a sample of its visits."""
        return bool(not self.dwell.empty and self.dwell["sampled"].any())

    def profile(self) -> pd.DataFrame:
        """Occupancy through the day: mean people per zone and time of day (the window's
        days laid on top of each other)."""
        if self.occupancy.empty:
            return pd.DataFrame(columns=["time_of_day", "zone", "people"])
        frame = self.occupancy.assign(
            zone=label(self.occupancy, ["store", "node", "zone"]),
            time_of_day=self.occupancy["time"].dt.strftime("%H:%M"),
        )
        return frame.groupby(["time_of_day", "zone"], as_index=False)[["people"]].mean()


def nearest_rank(values: npt.NDArray[np.float64], percent: float) -> float:
    """The nearest-rank percentile of sorted `values`, as InfluxQL's percentile() defines it."""
    index = int(len(values) * percent / 100 + 0.5) - 1
    return float(values[min(max(index, 0), len(values) - 1)])


def _dwell_bin_label(lower: int, upper: int | None) -> str:
    def text(seconds: int) -> str:
        return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"

    return f"{text(lower)}+" if upper is None else f"{text(lower)} to {text(upper)}"


def _distributions(stats: pd.DataFrame, samples: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Percentiles and a histogram per zone from its dwell values (all of them, or a sample)."""
    keys = ["store", "node", "zone"]
    edges = [*DWELL_BINS, np.inf]
    rows, bins = [], []
    for key, group in samples.groupby(keys):
        values = np.sort(group["seconds"].to_numpy(dtype=float))
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                **{f"p{p}": nearest_rank(values, p) for p in PERCENTILES},
                "sampled_n": len(values),
            }
        )
        counts, _ = np.histogram(values, bins=edges)
        for i, count in enumerate(counts):
            upper = DWELL_BINS[i + 1] if i + 1 < len(DWELL_BINS) else None
            bins.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "bin": _dwell_bin_label(DWELL_BINS[i], upper),
                    "lower_s": DWELL_BINS[i],
                    "share": count / len(values),
                }
            )
    table = stats.merge(pd.DataFrame(rows), on=keys, how="left")
    table["sampled"] = table["sampled_n"] < table["visits"]
    columns = [*keys, "visits", "mean_s", *(f"p{p}" for p in PERCENTILES), "sampled"]
    table = table[columns].sort_values(keys).reset_index(drop=True)
    return table, pd.DataFrame(bins, columns=[*keys, "bin", "lower_s", "share"])


def load(
    client: InfluxClient,
    scope: Scope,
    window: Window,
    now: datetime | None = None,
    sample_size: int = DWELL_SAMPLE,
) -> Zones:
    """Occupancy per zone, and dwell: exact count and mean per zone; percentiles and the
    histogram from the zone's dwell values, or from a random sample of `sample_size` of them
    when it had more visits (InfluxQL's sample(): one pass instead of one per percentile)."""
    window = so_far(window, scope, now)
    m = client.measurement
    interval = bucket(window)
    condition = where(scope, window, zones=True)
    by_zone = 'GROUP BY "store", "node", "zone"'
    # Which zones the rollup covers from when: one small query, before the rest side by side.
    coverage = zone_occupancy.coverage(client, scope, window, interval)
    covered = client.query(coverage) if coverage else None
    stats, samples, *occupancy = client.query_many(
        [
            f'SELECT count("seconds") AS "visits", mean("seconds") AS "mean_s" '
            f"FROM {m('dwell')} WHERE {condition} {by_zone}",
            f'SELECT sample("seconds", {int(sample_size)}) AS "seconds" '
            f"FROM {m('dwell')} WHERE {condition} {by_zone}",
            *zone_occupancy.statements(client, scope, window, interval, covered),
        ]
    )
    occupancy_frame = zone_occupancy.combine(occupancy, scope)
    stats_frame, samples_frame = to_frame(stats), to_frame(samples)
    if stats_frame.empty or samples_frame.empty:
        dwell = pd.DataFrame(columns=["store", "node", "zone", "visits", "mean_s", "sampled"])
        histogram = pd.DataFrame(columns=["store", "node", "zone", "bin", "lower_s", "share"])
    else:
        dwell, histogram = _distributions(stats_frame.drop(columns=["time"]), samples_frame)
    return Zones(interval=interval, occupancy=occupancy_frame, dwell=dwell, histogram=histogram)
