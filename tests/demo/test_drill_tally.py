"""The drill's arithmetic: what counts as owed, lost and duplicated, and which tracebacks count.

The drill itself (`make drill`) runs the whole stack for minutes and is not part of `make test`;
these check its tally on small, hand-made records.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from storefront_dev.drill import tally, tracebacks


def test_every_seq_after_the_baseline_is_owed_even_one_the_wire_probe_missed() -> None:
    produced = {("entrance", "s1", seq): b"{}" for seq in (3, 4, 6)}
    fired = Counter({("entrance", "s1", 3): 1, ("entrance", "s1", 4): 2, ("entrance", "s1", 5): 1})
    influx = Counter({("entrance", 3): 1, ("entrance", 6): 2})

    row = tally(produced, fired, influx, {"entrance": 2})["entrance/s1"]

    assert row["seqs"] == [3, 6]
    assert row["produced"] == 4  # seq 5 never reached the probe, but the node numbers without gaps
    assert row["seen_on_wire"] == 3
    assert (row["fired_in_ha"], row["lost_ha"], row["duplicated_ha"]) == (3, 1, 1)
    assert (row["in_influxdb"], row["lost_influxdb"], row["duplicated_influxdb"]) == (2, 2, 1)


def test_events_before_home_assistant_knew_the_node_are_not_owed() -> None:
    produced = {("entrance", "s1", seq): b"{}" for seq in (1, 2)}
    assert tally(produced, Counter(), Counter(), {"entrance": 2}) == {
        "entrance/s1": {
            "seqs": [3, 2],
            "produced": 0,
            "seen_on_wire": 0,
            "fired_in_ha": 0,
            "in_influxdb": 0,
            "lost_ha": 0,
            "lost_influxdb": 0,
            "duplicated_ha": 0,
            "duplicated_influxdb": 0,
        }
    }


def test_only_tracebacks_naming_the_integration_count(tmp_path: Path) -> None:
    log = tmp_path / "hass.log"
    log.write_text(
        "ERROR (MainThread) [homeassistant.setup] Setup failed for 'x'\n"
        "Traceback (most recent call last):\n"
        '  File "/root/.cache/storefront/python3.14/lib/asyncio/x.py", line 1\n'
        "ModuleNotFoundError: no module\n"
        "ERROR (MainThread) [custom_components.storefront] Unexpected error\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/a.py", line 2\n'
        "ValueError: boom\n"
    )
    assert tracebacks(log) == 2
    assert tracebacks(log, "custom_components.storefront") == 1
    assert tracebacks(tmp_path / "missing.log") == 0
