"""The Zones & dwell page's numbers: occupancy per zone through the day (zone_occupancy.py),
and dwell time distributions per zone (zone_dwell.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from streamlit_app.influxql import InfluxClient
from streamlit_app.queries import zone_dwell, zone_occupancy
from streamlit_app.queries.base import Scope, Window, bucket, label, so_far


@dataclass(frozen=True)
class Zones:
    interval: str
    occupancy: pd.DataFrame  # time, store, node, zone, people (mean per interval)
    dwell: pd.DataFrame  # store, node, zone, visits, mean_s, p10 .. p90, sampled, binned
    histogram: pd.DataFrame  # store, node, zone, bin, lower_s, share

    @property
    def empty(self) -> bool:
        return bool(self.occupancy.empty and self.dwell.empty)

    @property
    def sampled(self) -> bool:
        """Percentiles and histogram of some zone come from a sample of its visits."""
        return bool(not self.dwell.empty and self.dwell["sampled"].any())

    @property
    def binned(self) -> bool:
        """Percentiles of some zone are read from the hourly dwell rollup's bins."""
        return bool(not self.dwell.empty and self.dwell["binned"].any())

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


def load(
    client: InfluxClient,
    scope: Scope,
    window: Window,
    now: datetime | None = None,
    sample_size: int = zone_dwell.DWELL_SAMPLE,
) -> Zones:
    """Occupancy per zone, and dwell: exact count and mean per zone; percentiles and the
    histogram from the zone's dwell values (or a random sample of `sample_size` of them when
    it had more visits), or over long ranges from the hourly rollups (zone_dwell.py)."""
    window = so_far(window, scope, now)
    interval = bucket(window)
    # Which zones the rollups cover from when: small queries, before the rest side by side.
    coverage = {
        name: statement
        for name, statement in (
            ("occupancy", zone_occupancy.coverage_statement(client, scope, window, interval)),
            ("dwell", zone_dwell.coverage_statement(client, scope, window)),
        )
        if statement is not None
    }
    covered = dict(zip(coverage, client.query_many(list(coverage.values())), strict=True))
    dwell_queries = zone_dwell.statements(client, scope, window, covered.get("dwell"), sample_size)
    occupancy_statements = zone_occupancy.statements(
        client, scope, window, interval, covered.get("occupancy")
    )
    answers = client.query_many(
        [*(query.statement for query in dwell_queries), *occupancy_statements]
    )
    dwell, histogram = zone_dwell.combine(dwell_queries, answers[: len(dwell_queries)])
    occupancy = zone_occupancy.combine(answers[len(dwell_queries) :], scope)
    return Zones(interval=interval, occupancy=occupancy, dwell=dwell, histogram=histogram)
