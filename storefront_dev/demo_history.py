"""The demo's past: days of synthetic shop traffic written straight into InfluxDB.

With `make demo SIMULATE=N` the synthetic nodes publish live from now on; the analyst app and
Grafana compare today with earlier days, so the demo also writes what those nodes would have
exported over the last few days. The messages come from the same simulator (same seed, so the
past and the live traffic are one story) and become points through the integration's own
`PointMaker`, so they are exactly what the export would have written — tagged `synthetic=true`.

`history.json` in the demo's directory remembers how far the history reaches; the next start
only fills the gap since then.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from custom_components.storefront.points import PointMaker
from storefront_dev.synthetic import Store

BATCH_LINES = 10_000
STATE_EVERY_S = 60.0  # the export samples occupancy once a minute
HEALTH_EVERY_S = 300.0  # enough for the health panels; a live node reports every 30 s


def history_start(marker: Path, nodes: int, days: int, now: float, timezone: str) -> float | None:
    """Where the history to write begins: after what an earlier run wrote for the same nodes,
    else local midnight `days` days ago; None when nothing is missing."""
    try:
        done = json.loads(marker.read_text())
    except (OSError, ValueError):
        done = {}
    if done.get("nodes") == nodes and done.get("days") == days:
        until = float(done.get("until", 0))
        return until if until < now - STATE_EVERY_S else None
    midnight = dt.datetime.combine(
        dt.datetime.fromtimestamp(now, ZoneInfo(timezone)).date() - dt.timedelta(days=days),
        dt.time(),
        tzinfo=ZoneInfo(timezone),
    )
    return midnight.timestamp()


def lines(store: str, nodes: int, start: float, end: float, timezone: str) -> Iterator[str]:
    """Every point the export would have written for the synthetic nodes from start to end."""
    maker = PointMaker(store)
    simulated = Store(nodes=nodes, timezone=timezone)
    for node_id, kind, message in simulated.messages(
        start, end, state_every_s=STATE_EVERY_S, health_every_s=HEALTH_EVERY_S
    ):
        if kind == "description":
            yield from maker.description(node_id, message)
        elif kind == "state":
            yield from maker.state(node_id, message)
        elif kind == "health":
            yield from maker.health(node_id, message)
        elif kind == "event":
            yield from maker.event(node_id, message)
    yield from maker.rollup()  # the zones' last hourly slots, as the export does on stop


def backfill(
    influx_url: str,
    database: str,
    *,
    store: str,
    nodes: int,
    days: int,
    now: float,
    timezone: str,
    marker: Path,
) -> tuple[int, float | None]:
    """Write the missing history; returns how many points were written, and from when."""
    start = history_start(marker, nodes, days, now, timezone)
    if start is None or days <= 0:
        return 0, None
    written = 0
    batch: list[str] = []
    with requests.Session() as session:

        def send() -> None:
            response = session.post(
                f"{influx_url}/write",
                params={"db": database, "precision": "ns"},
                data="\n".join(batch).encode(),
                timeout=60,
            )
            if response.status_code != 204:
                raise RuntimeError(
                    f"InfluxDB refused the demo's history ({response.status_code}): "
                    f"{response.text[:300]}"
                )

        for line in lines(store, nodes, start, now, timezone):
            batch.append(line)
            if len(batch) >= BATCH_LINES:
                send()
                written += len(batch)
                batch.clear()
        if batch:
            send()
            written += len(batch)
    marker.write_text(json.dumps({"nodes": nodes, "days": days, "until": now}) + "\n")
    return written, start
