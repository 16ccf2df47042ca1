"""The durable event queue: sequence numbers survive restarts, bounds drop oldest first."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from edge_node.outbox import EventQueue
from tests.node_contract import contract

CROSSING = {"line": "door", "direction": "in", "track": 3}


class FakeClock:
    def __init__(self, now: float = 1_795_380_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_events_follow_the_contract_and_sequence(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    first = queue.append("crossing", CROSSING)
    second = queue.append("crossing", {**CROSSING, "direction": "out"})
    assert (first.seq, second.seq) == (1, 2)
    for event in (first, second):
        body = contract.parse("event_crossing", event.payload)
        assert body["stream"] == queue.stream
    assert [e.seq for e in queue.pending()] == [1, 2]
    assert [e.seq for e in queue.pending(after_seq=1)] == [2]


def test_ack_removes_only_that_event(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    for _ in range(3):
        queue.append("crossing", CROSSING)
    queue.ack(2)
    queue.ack(2)  # a second PUBACK for the same event is harmless
    assert [e.seq for e in queue.pending()] == [1, 3]
    stats = queue.stats()
    assert stats.depth == 2
    assert stats.bytes == sum(len(e.payload) for e in queue.pending())


def test_restart_keeps_events_stream_and_sequence(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    stream = queue.stream
    for _ in range(3):
        queue.append("crossing", CROSSING)
    queue.ack(1)
    queue.close()
    reopened = EventQueue(tmp_path / "q.db")
    assert reopened.stream == stream
    assert [e.seq for e in reopened.pending()] == [2, 3]
    assert reopened.append("crossing", CROSSING).seq == 4


def test_sequence_continues_after_everything_was_acknowledged(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    for _ in range(3):
        queue.ack(queue.append("crossing", CROSSING).seq)
    queue.close()
    assert EventQueue(tmp_path / "q.db").append("crossing", CROSSING).seq == 4


def test_new_database_is_a_new_stream(tmp_path: Path) -> None:
    assert EventQueue(tmp_path / "a.db").stream != EventQueue(tmp_path / "b.db").stream


def _append_forever(path: str, ready: multiprocessing.Event) -> None:  # type: ignore[valid-type]
    queue = EventQueue(path)
    for index in range(100_000):
        queue.append("crossing", {**CROSSING, "track": index})
        if index == 50:
            ready.set()


def test_events_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    ready = multiprocessing.get_context("spawn").Event()
    writer = multiprocessing.get_context("spawn").Process(
        target=_append_forever, args=(str(path), ready)
    )
    writer.start()
    assert ready.wait(30)
    os.kill(writer.pid or 0, signal.SIGKILL)
    writer.join()
    queue = EventQueue(path)
    seqs = [e.seq for e in queue.pending(limit=1_000_000)]
    assert len(seqs) > 50
    assert seqs == list(range(1, len(seqs) + 1)), "a gap or a duplicate after SIGKILL"
    tracks = [json.loads(e.payload)["track"] for e in queue.pending(limit=1_000_000)]
    assert tracks == list(range(len(seqs)))
    assert queue.append("crossing", CROSSING).seq == len(seqs) + 1


def test_count_bound_drops_oldest_and_counts_it(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db", max_events=5)
    for _ in range(8):
        queue.append("crossing", CROSSING)
    assert [e.seq for e in queue.pending()] == [4, 5, 6, 7, 8]
    assert queue.stats().dropped == 3
    queue.close()
    assert EventQueue(tmp_path / "q.db", max_events=5).stats().dropped == 3


def test_size_bound_drops_oldest(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db", max_bytes=1000)
    for _ in range(50):
        queue.append("crossing", CROSSING)
    stats = queue.stats()
    assert stats.bytes <= 1000
    assert stats.dropped == 50 - stats.depth
    assert queue.pending()[-1].seq == 50


def test_age_bound_drops_old_events(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = EventQueue(tmp_path / "q.db", max_age_s=3600, clock=clock)
    queue.append("crossing", CROSSING)
    clock.now += 1800
    queue.append("crossing", CROSSING)
    assert queue.stats().oldest_age_s == 1800
    clock.now += 2000  # the first is now 3800 s old
    queue.append("crossing", CROSSING)
    assert [e.seq for e in queue.pending()] == [2, 3]
    assert queue.stats().dropped == 1


def test_counters_are_stored_with_the_event_that_changed_them(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    assert queue.load_counters() is None
    queue.append("crossing", CROSSING, counters=lambda seq: {"in": 1, "last_seq": seq})
    queue.append("crossing", CROSSING, counters=lambda seq: {"in": 2, "last_seq": seq})
    queue.close()
    assert EventQueue(tmp_path / "q.db").load_counters() == {"in": 2, "last_seq": 2}


def test_failed_counters_leave_no_event(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")

    def broken(_seq: int) -> dict[str, float]:
        return {"bad": float("nan")}  # refused by the JSON encoder

    with pytest.raises(ValueError, match="not JSON compliant"):
        queue.append("crossing", CROSSING, counters=broken)
    assert queue.pending() == []
    assert queue.append("crossing", CROSSING).seq == 1


def test_acknowledged_events_stay_in_the_replay_log(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    for _ in range(5):
        queue.append("crossing", CROSSING)
    for seq in (1, 2, 4):
        queue.ack(seq)
    assert [e.seq for e in queue.delivered(2)] == [2, 4]
    assert (
        queue.delivered(1)[0].payload
        == json.dumps(json.loads(queue.delivered(1)[0].payload), separators=(",", ":")).encode()
    )
    assert queue.replay_from() == 1
    assert queue.stats().depth == 2  # only what the broker has not acknowledged
    queue.close()
    reopened = EventQueue(tmp_path / "q.db")
    assert [e.seq for e in reopened.delivered(1)] == [1, 2, 4]
    assert reopened.append("crossing", CROSSING).seq == 6


def test_replay_log_keeps_its_count_and_age_bounds(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = EventQueue(tmp_path / "q.db", replay_events=300, replay_age_s=3600, clock=clock)
    for _ in range(1000):
        queue.ack(queue.append("crossing", CROSSING).seq)
    kept = [e.seq for e in queue.delivered(1, limit=10_000)]
    assert kept[-1] == 1000
    assert 300 <= len(kept) < 300 + 200  # pruned every 200 acknowledgements
    clock.now += 4000
    for _ in range(200):
        queue.ack(queue.append("crossing", CROSSING).seq)
    assert [e.seq for e in queue.delivered(1, limit=10_000)] == list(range(1001, 1201))
    assert queue.replay_from() == 1001
    assert queue.stats().dropped == 0  # leaving the replay log is not a loss


def test_replay_from_is_the_next_seq_when_nothing_is_kept(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db", replay_events=0)
    assert queue.replay_from() == 1
    for _ in range(200):
        queue.ack(queue.append("crossing", CROSSING).seq)
    assert queue.replay_from() == 201
