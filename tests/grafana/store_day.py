"""The Grafana tests' store: a day of traffic up to now, written the way Home Assistant
writes it (`tests.streamlit.dataset`, from the project's synthetic generator).

Two stores: "Main St. 3/5 (Old Town)" (a name full of regex characters, so a dashboard that
forgets to escape it shows nothing) with the nodes `entrance` and `floor` and a simulated node
`sim-1` (its points carry synthetic=true), and "Harbour" with one node. The shops are open
around the clock, so every panel has data whenever the tests run, and every node has a shopper
in view now. Every real node watches zones, a counting line, a shelf and a window display,
classifies personas, and had one short link outage in the last hours (offline, then online
again, its events delivered late).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

import requests

from tests.streamlit import dataset
from tests.streamlit.dataset import Dataset, NodeSpec

MAIN = "Main St. 3/5 (Old Town)"
HARBOUR = "Harbour"
TIMEZONE = "UTC"  # the nodes' days, and so "today" on the dashboards, run on UTC


# Open around the clock with a shopper in view now; a real node also has a shelf, a display and
# personas, and had an outage.
_open_now = functools.partial(NodeSpec, hours=(0, 24), present_now=True)
_real = functools.partial(_open_now, shelf="coffee", display="window_display", personas=True)

NODES = (
    _real(MAIN, "entrance", ("window", "counter"), "door", (4, 12), outage=(5.0, 15.0)),
    _real(MAIN, "floor", ("aisle", "counter"), "stairs", (3, 9), outage=(4.0, 30.0)),
    _real(HARBOUR, "entrance", ("window",), "door", (2, 6), outage=(2.0, 10.0)),
    _open_now(MAIN, "sim-1", ("window",), "door", (10, 30), synthetic=True),
)


def midnight(ts: float) -> float:
    """Start of the UTC day of `ts` (the nodes of this day run on UTC)."""
    day = datetime.fromtimestamp(ts, UTC).date()
    return datetime.combine(day, time(), UTC).timestamp()


def build(now: float, seed: int = 11) -> Dataset:
    """24 hours up to `now` (nothing later) for NODES: a state a minute (the export samples
    occupancy once a minute) and a health report every 30 s (a node's default)."""
    return dataset.build(
        datetime.fromtimestamp(now, UTC),
        seed,
        NODES,
        timezone=TIMEZONE,
        since=datetime.fromtimestamp(now - 24 * 3600, UTC),
        state_every=timedelta(minutes=1),
        health_every=timedelta(seconds=30),
    )


def write(url: str, database: str, lines: Sequence[str]) -> None:
    """(Re)create the database and write the lines through the integration's writer."""
    requests.post(
        f"{url}/query", params={"q": f'DROP DATABASE "{database}"'}, timeout=30
    ).raise_for_status()
    dataset.write(url, database, lines)
