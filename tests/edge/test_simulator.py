"""The store simulator: contract-valid messages, counts that add up, a shop's day, and the live
mode against a real mosquitto."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import math
import signal
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator
from itertools import islice, pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from storefront_dev.mqtt_probe import Probe
from storefront_dev.servers import Mosquitto, free_port
from storefront_dev.simulator import parse_start
from storefront_dev.synthetic import LAYOUTS, Store
from tests.node_contract import contract

ROOT = Path(__file__).resolve().parents[2]
EDGE = [sys.executable, "-m", "edge_node"]
TZ = ZoneInfo("Europe/Berlin")
# Monday 23 March 2026 to Monday 30 March: a whole week, with the spring clock change on Sunday.
MONDAY = dt.datetime(2026, 3, 23, tzinfo=TZ)
WEEK = (MONDAY.timestamp(), (MONDAY + dt.timedelta(days=7)).timestamp())
NODES = 4  # one of each layout, and the first layout again

Message = tuple[str, str, dict[str, Any]]


def _kind(kind: str, message: dict[str, Any]) -> str:
    return f"event_{message['type']}" if kind == "event" else kind


def _local(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, TZ)


@pytest.fixture(scope="module")
def week() -> list[Message]:
    return list(Store(nodes=NODES, seed=7).messages(*WEEK, state_every_s=60))


def test_every_message_follows_the_contract(week: list[Message]) -> None:
    kinds = collections.Counter()
    for _node, kind, message in week:
        contract.validate(_kind(kind, message), message)
        kinds[_kind(kind, message)] += 1
    assert kinds["description"] == NODES
    for kind in contract.JSON_KINDS[:7]:  # description .. every event type
        assert kinds[kind] > 0, f"no {kind} in a week of four nodes"


def test_nodes_say_they_are_synthetic(week: list[Message]) -> None:
    descriptions = {node: m for node, kind, m in week if kind == "description"}
    assert list(descriptions) == [f"sim-{i}" for i in range(1, NODES + 1)]
    for node, description in descriptions.items():
        assert description["node_id"] == node
        assert description["synthetic"] is True
        assert description["name"].startswith("Synthetic")
    # The first message of every node is its description.
    firsts: dict[str, str] = {}
    for node, kind, _ in week:
        firsts.setdefault(node, kind)
    assert set(firsts.values()) == {"description"}


def test_messages_come_in_time_order_and_seq_counts_up_by_one(week: list[Message]) -> None:
    stamps = [m["ts"] for _, _, m in week]
    assert stamps == sorted(stamps)
    streams = {}
    for node in (f"sim-{i}" for i in range(1, NODES + 1)):
        events = [m for n, k, m in week if n == node and k == "event"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert len({e["stream"] for e in events}) == 1
        streams[node] = events[0]["stream"]
    assert len(set(streams.values())) == NODES


def test_state_matches_the_events_since_local_midnight(week: list[Message]) -> None:
    """Every state's counters and occupancy equal what the node's events since its local
    midnight add up to; nothing is ever negative; a new local day starts from zero."""
    for node in (f"sim-{i}" for i in range(1, NODES + 1)):
        day = None
        tally: collections.Counter[str] = collections.Counter()
        last_seq = 0
        midnights = 0
        for n, kind, m in week:
            if n != node:
                continue
            local_day = _local(m["ts"]).date().isoformat()
            if local_day != day:
                day, tally = local_day, collections.Counter()
            if kind == "event":
                last_seq = m["seq"]
                if m["type"] == "crossing":
                    tally[m["direction"]] += 1
                elif m["type"] == "visit":
                    tally["visits"] += 1
                    tally[f"persona:{m['persona']}"] += 1
                    for zone in m["zones"]:
                        tally[f"dwell:{zone}"] += 1
                elif m["type"] == "impression":
                    tally["passers"] += 1
                    tally["looked"] += m["looked"]
                elif m["type"] == "shelf" and m["change"] in ("taken", "returned"):
                    tally[f"{m['shelf']}:{m['change']}"] += 1
            if kind != "state":
                continue
            assert m["day"] == day
            door = m["counters"]["lines"]["door"]
            occupancy = m["occupancy"]
            assert (door["in"], door["out"]) == (tally["in"], tally["out"])
            assert occupancy["total"] == door["in"] - door["out"] >= 0
            assert 0 <= sum(occupancy["zones"].values()) <= occupancy["total"]
            assert min(occupancy["zones"].values()) >= 0
            assert m["counters"]["visits"] == tally["visits"] == door["out"]
            assert sum(m["counters"]["personas"].values()) == tally["visits"]
            for persona, count in m["counters"]["personas"].items():
                assert count == tally[f"persona:{persona}"]
            for zone, stats in m["counters"]["dwell"].items():
                assert stats["count"] == tally[f"dwell:{zone}"]
            for counts in m["counters"].get("impressions", {}).values():
                # Every simulated passer dwells, so each is an impression; watchers looked.
                assert (counts["passers"], counts["impressions"], counts["watchers"]) == (
                    tally["passers"],
                    tally["passers"],
                    tally["looked"],
                )
            for shelf, stock in m.get("stock", {}).items():
                assert stock["taken"] == tally[f"{shelf}:taken"]
                assert stock["returned"] == tally[f"{shelf}:returned"]
            assert m["last_seq"] == last_seq
            if _local(m["ts"]).time() == dt.time(0):
                midnights += 1
                assert occupancy["total"] == 0
                assert m["counters"]["visits"] == 0
                assert door == {"in": 0, "out": 0}
        assert midnights == 7  # a state at every local midnight, also on the clock-change day


def test_nobody_leaves_who_did_not_enter(week: list[Message]) -> None:
    for node in (f"sim-{i}" for i in range(1, NODES + 1)):
        entered: dict[int, float] = {}
        left: dict[int, float] = {}
        for event in (m for n, k, m in week if n == node and k == "event"):
            track = event.get("track")
            if event["type"] == "crossing" and event["direction"] == "in":
                assert track not in entered
                entered[track] = event["ts"]
            elif event["type"] == "crossing":
                assert track in entered, f"{node}: track {track} left without entering"
                assert track not in left
                left[track] = event["ts"]
            elif event["type"] == "visit":
                assert track in left, f"{node}: visit of track {track} before it left"
                assert event["started"] == pytest.approx(entered[track], abs=1e-3)
                assert event["duration_s"] == pytest.approx(left[track] - entered[track], abs=0.1)
                assert sum(event["zones"].values()) <= event["duration_s"] + 0.1 * len(
                    event["zones"]
                )
            elif event["type"] in ("impression", "shelf") and track is not None:
                assert track in entered
                assert track not in left
        assert set(entered) == set(left), f"{node}: someone stayed in the shop overnight"


def test_a_shop_day(week: list[Message]) -> None:
    """Opening hours, weekday peaks at lunch and after work, a busier Saturday, Sunday closing."""
    entries: dict[tuple[str, int], int] = collections.Counter()  # (node, weekday)
    hourly: dict[tuple[str, int], int] = collections.Counter()  # ("week"/"sat", hour)
    for node, kind, m in week:
        if kind == "event" and m["type"] == "crossing" and m["direction"] == "in":
            when = _local(m["ts"])
            index = int(node.removeprefix("sim-"))
            hours = LAYOUTS[(index - 1) % len(LAYOUTS)].hours[when.weekday()]
            assert hours is not None, f"{node} has visitors on a closed day"
            assert hours[0] <= when.hour + when.minute / 60 < hours[1], f"{node} at {when}"
            entries[node, when.weekday()] += 1
            hourly["week" if when.weekday() < 5 else "sat", when.hour] += 1
    for node in ("sim-1", "sim-3", "sim-4"):  # shop and grocery layouts close on Sundays
        assert entries[node, 6] == 0
        weekdays = statistics.fmean(entries[node, day] for day in range(5))
        assert entries[node, 5] > 1.15 * weekdays  # Saturday is the busiest day
    assert entries["sim-2", 6] > 0  # the cafe opens on Sundays
    assert hourly["week", 12] > 1.3 * hourly["week", 10]  # lunch
    assert hourly["week", 17] > 1.3 * hourly["week", 14]  # after work
    assert hourly["sat", 13] > 1.3 * hourly["sat", 17]  # Saturday: one broad midday peak


def test_dwell_times_are_skewed_like_real_ones(week: list[Message]) -> None:
    """Log-normal-ish: most stays are short, a few are long (mean above median, long tail)."""
    dwell: dict[str, list[float]] = collections.defaultdict(list)
    for node, kind, m in week:
        if kind == "event" and m["type"] == "visit":
            for zone, seconds in m["zones"].items():
                dwell[f"{node}/{zone}"].append(seconds)
    assert len(dwell) == 3 * NODES
    for zone, samples in dwell.items():
        assert len(samples) > 200, zone
        assert statistics.fmean(samples) > statistics.median(samples), zone
        logs = [math.log(s) for s in samples]
        # In log space the spread is roughly symmetric (skewness near 0, unlike the raw values).
        skew_log = statistics.fmean((x - statistics.fmean(logs)) ** 3 for x in logs) / (
            statistics.pstdev(logs) ** 3
        )
        assert abs(skew_log) < 1.0, (zone, skew_log)


def _day(store: Store, start: dt.datetime, hours: float, **kw: Any) -> list[Message]:
    end = start + dt.timedelta(hours=hours)
    return list(store.messages(start.timestamp(), end.timestamp(), **kw))


def test_same_seed_same_traffic_other_seed_other_traffic() -> None:
    friday = dt.datetime(2026, 3, 27, 8, tzinfo=TZ)
    first = _day(Store(nodes=2, seed=11), friday, 6)
    assert first == _day(Store(nodes=2, seed=11), friday, 6)
    other = _day(Store(nodes=2, seed=12), friday, 6)
    events = [m for _, k, m in first if k == "event"]
    assert events != [m for _, k, m in other if k == "event"]
    # A node's traffic does not depend on how many nodes are around it.
    alone = [m for n, k, m in first if n == "sim-1" and k == "event"]
    with_more = _day(Store(nodes=5, seed=11), friday, 6)
    assert alone == [m for n, k, m in with_more if n == "sim-1" and k == "event"]


def test_starting_later_the_same_day_replays_the_same_facts() -> None:
    """A run that starts at 14:00 carries the morning in its counters and continues the same
    stream with the same seq numbers, so a receiver de-duplicates a restarted simulator."""
    store = Store(nodes=3, seed=5)
    midnight = dt.datetime(2026, 3, 26, tzinfo=TZ)
    afternoon = midnight + dt.timedelta(hours=14)
    whole = _day(store, midnight, 17)
    later = _day(store, afternoon, 3)
    cut = afternoon.timestamp()
    assert [m for n, k, m in later if k == "event"] == [
        m for n, k, m in whole if k == "event" and m["ts"] >= cut
    ]
    for node in store.node_ids:
        first_state = next(m for n, k, m in later if n == node and k == "state")
        before = [m for n, k, m in whole if n == node and k == "event" and m["ts"] < cut]
        ins = sum(1 for m in before if m["type"] == "crossing" and m["direction"] == "in")
        assert first_state["counters"]["lines"]["door"]["in"] == ins > 0
        assert first_state["last_seq"] == before[-1]["seq"]


def test_state_on_change_is_rate_limited() -> None:
    lunch = dt.datetime(2026, 3, 24, 12, tzinfo=TZ)
    messages = _day(Store(nodes=1, seed=2), lunch, 1, state_min_interval_s=5.0)
    states = [m["ts"] for _, k, m in messages if k == "state"]
    assert len(states) > 60 + 30  # more than the once-a-minute states: busy lunch hour
    periodic = {ts for ts in states if ts % 60 == 0}
    on_change = [ts for ts in states if ts not in periodic]
    gaps = [b - a for a, b in pairwise(states) if b in on_change]
    assert min(gaps) >= 5.0 - 1e-6


def test_an_outage_delays_what_the_node_publishes_not_what_happens() -> None:
    """During a link outage a node goes offline and publishes nothing; its events come when
    the link is back, unchanged and with their own time, then state and a health report with
    the queue it found."""
    store = Store(nodes=1, seed=4)
    start = dt.datetime(2026, 3, 24, 11, tzinfo=TZ)
    down, up = (start + dt.timedelta(minutes=m) for m in (30, 50))
    node = dataclasses.replace(store.nodes[0], outages=((down.timestamp(), up.timestamp()),))
    steady = _day(store, start, 2)
    broken = _day(Store.of([node], seed=4), start, 2)
    for _, kind, message in broken:
        if kind != "availability":
            contract.validate(_kind(kind, message), message)
    assert [m for _, k, m in broken if k == "event"] == [m for _, k, m in steady if k == "event"]
    assert [m for _, k, m in broken if k == "availability"] == [
        {"ts": down.timestamp(), "online": False},
        {"ts": up.timestamp(), "online": True},
    ]
    published = [(k, m["ts"]) for _, k, m in broken if k in ("state", "health")]
    assert not [ts for _, ts in published if down.timestamp() <= ts < up.timestamp()]
    back = broken.index((node.node_id, "availability", {"ts": up.timestamp(), "online": True}))
    late = list(itertools.takewhile(lambda m: m[1] == "event", broken[back + 1 :]))
    assert late, "nobody did anything in twenty minutes of a Tuesday lunchtime"
    assert all(down.timestamp() <= m["ts"] < up.timestamp() for _, _, m in late)
    (_, kind, state), (_, _, health) = broken[back + 1 + len(late) : back + 3 + len(late)]
    assert (kind, state["ts"], health["ts"]) == ("state", up.timestamp(), up.timestamp())
    assert health["queue"]["depth"] == len(late)
    assert health["queue"]["oldest_age_s"] == round(up.timestamp() - late[0][2]["ts"], 1)
    with pytest.raises(ValueError, match="outage"):
        list(Store.of([node], seed=4).messages(down.timestamp() + 60))


def test_a_shopper_is_in_view_at_each_moment_asked_for() -> None:
    """Moments at which a shopper must be in view: asked for where the shop was empty, they
    find someone there, and the day around them stays as it was."""
    store = Store(nodes=1, seed=9)
    start = dt.datetime(2026, 3, 23, 9, 10, tzinfo=TZ)  # a Monday; the entrance opens at 9

    def people(messages: list[Message]) -> dict[float, int]:
        return {m["ts"]: m["occupancy"]["total"] for _, k, m in messages if k == "state"}

    steady = _day(store, start, 3, state_every_s=60)
    empty = [ts for ts, total in people(steady).items() if total == 0][:3]
    assert len(empty) == 3, "the shop is never empty on a Monday morning"
    node = dataclasses.replace(store.nodes[0], present_at=tuple(empty))
    asked = _day(Store.of([node], seed=9), start, 3, state_every_s=60)
    assert min(people(asked)[ts] for ts in empty) > 0

    def visits(messages: list[Message]) -> set[tuple[int, float, float]]:
        return {
            (m["track"], m["started"], m["duration_s"])
            for _, k, m in messages
            if k == "event" and m["type"] == "visit"
        }

    assert visits(steady) < visits(asked)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="nodes"):
        Store(nodes=0)
    with pytest.raises(ValueError, match="timezone"):
        Store(timezone="Europe/Atlantis")
    with pytest.raises(ValueError, match="--start"):
        parse_start("next tuesday", "Europe/Berlin")
    assert (
        parse_start("2026-03-24T12:00", "Europe/Berlin")
        == dt.datetime(2026, 3, 24, 12, tzinfo=TZ).timestamp()
    )


# --- live mode ------------------------------------------------------------------------------


@contextlib.contextmanager
def _simulate(port: int, root: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`storefront-edge simulate` in a process of its own, killed if the test leaves it running."""
    command = [*EDGE, "simulate", "--port", str(port), "--topic-root", root, *args]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


@contextlib.contextmanager
def _probe(port: int, root: str, name: str = "probe") -> Iterator[Probe]:
    """A subscriber to everything under `root` (made in the test: fixtures get no sockets)."""
    probe = Probe(port, topic=f"{root}/#", client_id=f"{name}-{root}")
    try:
        assert probe.subscribed.wait(10)
        yield probe
    finally:
        probe.close()


@pytest.fixture
def root() -> str:
    """A topic root of the test's own on the session broker."""
    return f"simtest-{uuid.uuid4().hex[:8]}"


def test_live_mode_publishes_retained_descriptions_and_events(
    mosquitto: Mosquitto, root: str
) -> None:
    # Three nodes on a Wednesday lunchtime, 300 times faster than real time, for 4 seconds.
    args = ("--nodes", "3", "--speed", "300", "--start", "2026-03-25T12:00", "--seconds", "4")
    with _probe(mosquitto.port, root) as probe, _simulate(mosquitto.port, root, *args) as proc:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "published" in err
        probe.wait(
            lambda: all(probe.last(f"sim-{i}/availability") == b"offline" for i in (1, 2, 3))
        )
        messages = list(probe.messages)

    received: collections.Counter[str] = collections.Counter()
    seqs: dict[str, list[int]] = collections.defaultdict(list)
    for topic, payload, _retained in messages:
        _, node, kind = topic.split("/", 2)
        kind = kind.replace("/", "_")
        contract.parse(kind, payload)
        received[kind] += 1
        if kind.startswith("event_"):
            seqs[node].append(json.loads(payload)["seq"])
    assert received["event_crossing"] > 20
    assert received["event_visit"] > 5
    for node in ("sim-1", "sim-2", "sim-3"):
        assert len(seqs[node]) > 5
        assert seqs[node] == sorted(set(seqs[node]))  # in order, each once

    # A subscriber arriving later still learns every node from the retained messages.
    with _probe(mosquitto.port, root, "late") as late:
        late.wait(lambda: all(late.last(f"sim-{i}/state") for i in (1, 2, 3)), within_s=10)
        retained = {t.split("/", 1)[1]: p for t, p, r in list(late.messages) if r}
        for i in (1, 2, 3):
            description = contract.parse("description", retained[f"sim-{i}/description"])
            assert description["synthetic"] is True
            assert description["name"].startswith("Synthetic")
            state = contract.parse("state", retained[f"sim-{i}/state"])
            assert state["day"] == "2026-03-25"
            assert state["counters"]["lines"]["door"]["in"] > 0  # the morning's visitors
            assert retained[f"sim-{i}/availability"] == b"offline"  # the orderly goodbye
        assert not any("/event/" in t for t, _, _ in late.messages)  # events are not retained


def test_live_mode_last_will_and_commands(mosquitto: Mosquitto, root: str) -> None:
    args = ("--nodes", "2", "--start", "2026-03-25T12:00")
    with _probe(mosquitto.port, root) as probe, _simulate(mosquitto.port, root, *args) as proc:
        probe.wait(lambda: probe.last("sim-2/availability") == b"online", within_s=20)
        command = {"schema": 1, "id": "abc123", "command": "reset_counters"}
        probe.client.publish(f"{root}/sim-1/command", json.dumps(command), qos=1)
        probe.wait(lambda: probe.last("sim-1/reply") is not None)
        reply = contract.parse("reply", probe.last("sim-1/reply") or b"")
        assert reply["id"] == "abc123"
        assert reply["ok"] is False
        assert "simulated" in reply["error"]
        # Killed without a goodbye: the broker publishes each node's Last Will.
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        probe.wait(lambda: probe.last("sim-1/availability") == b"offline", within_s=10)
        probe.wait(lambda: probe.last("sim-2/availability") == b"offline", within_s=10)


def test_live_mode_says_when_the_broker_is_unreachable(root: str) -> None:
    with _simulate(free_port(), root, "--nodes", "1", "--connect-timeout", "2") as proc:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "cannot reach the MQTT broker" in err


def test_an_endless_run_is_lazy() -> None:
    """With no end the generator simulates only as far as it is read."""
    store = Store(nodes=10, seed=1)
    first = list(islice(store.messages(MONDAY.timestamp() + 12 * 3600, None), 50))
    assert [kind for _, kind, _ in first[:30]] == ["description", "state", "health"] * 10
