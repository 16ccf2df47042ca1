"""The tracker on hand-built detections: stable ids, no ghosts, occlusion, crossing paths."""

from __future__ import annotations

import numpy as np

from edge_node.track import Tracker, TrackerConfig, iou_matrix
from edge_node.types import Box, Detection

FPS = 10


def person(
    x: float, y: float = 0.5, score: float = 0.9, w: float = 0.05, h: float = 0.15
) -> Detection:
    return Detection(box=(x, y - h, x + w, y), score=score)


def run(frames: list[list[Detection]], config: TrackerConfig | None = None) -> list[list[int]]:
    tracker = Tracker(config or TrackerConfig())
    return [
        [t.track_id for t in tracker.update(dets, i / FPS).tracks] for i, dets in enumerate(frames)
    ]


def test_a_walking_person_keeps_one_id() -> None:
    ids = run([[person(0.1 + 0.01 * i)] for i in range(40)])
    assert ids[0] == []
    assert ids[1] == []
    assert {tuple(frame) for frame in ids[2:]} == {(1,)}


def test_a_one_frame_false_positive_never_becomes_a_person() -> None:
    frames: list[list[Detection]] = [[] for _ in range(10)]
    frames[3] = [person(0.5)]
    frames[6] = [person(0.5), person(0.52)]
    assert all(ids == [] for ids in run(frames))


def test_weak_detections_continue_but_never_start_tracks() -> None:
    weak = [[person(0.2, score=0.2)] for _ in range(10)]
    assert all(ids == [] for ids in run(weak))
    strong_then_weak = [[person(0.2 + 0.01 * i, score=0.9 if i < 4 else 0.2)] for i in range(12)]
    assert run(strong_then_weak)[-1] == [1]


def test_short_occlusion_keeps_the_id_and_a_long_one_ends_it() -> None:
    tracker = Tracker(TrackerConfig(max_lost_s=1.0, report_lost_s=0.3))
    for i in range(5):
        tracker.update([person(0.1 + 0.01 * i)], i / FPS)
    # Hidden for 0.5 s: still tracked internally, reported as in view only for 0.3 s.
    reported = [tracker.update([], (5 + i) / FPS).tracks for i in range(5)]
    assert [len(r) for r in reported] == [1, 1, 1, 0, 0]
    back = tracker.update([person(0.16)], 1.0)
    assert [t.track_id for t in back.tracks] == [1]
    ended = []
    for i in range(15):
        ended += tracker.update([], 1.1 + i / FPS).ended
    assert ended == [1]


def test_two_people_crossing_paths_keep_their_ids() -> None:
    frames = []
    for i in range(30):
        left_to_right = person(0.2 + 0.02 * i, y=0.5)
        right_to_left = person(0.8 - 0.02 * i, y=0.55)
        frames.append([left_to_right, right_to_left])
    tracker = Tracker()
    positions: dict[int, list[float]] = {}
    for i, dets in enumerate(frames):
        for t in tracker.update(dets, i / FPS).tracks:
            positions.setdefault(t.track_id, []).append(t.box[0])
    assert len(positions) == 2
    for xs in positions.values():
        steps = np.diff(xs)
        assert np.all(steps > 0) or np.all(steps < 0), "a track jumped to the other person"


def test_flush_ends_every_confirmed_track() -> None:
    tracker = Tracker()
    for i in range(4):
        tracker.update([person(0.1), person(0.6)], i / FPS)
    tracker.update([person(0.9)], 0.4)  # a new, unconfirmed track is not reported as ended
    assert sorted(tracker.flush()) == [1, 2]
    assert tracker.update([], 0.5).tracks == []


def test_ids_are_never_reused() -> None:
    tracker = Tracker(TrackerConfig(max_lost_s=0.2))
    seen = []
    t = 0.0
    for _ in range(3):
        for _ in range(4):
            seen += [x.track_id for x in tracker.update([person(0.5)], t).tracks]
            t += 0.1
        t += 1.0  # gone long enough to end
        tracker.update([], t)
    assert len(set(seen)) == 3


def test_iou_matrix() -> None:
    boxes: list[Box] = [(0, 0, 1, 1), (0.5, 0, 1.5, 1)]
    overlap = iou_matrix(np.array(boxes), np.array(boxes))
    assert overlap[0, 0] == 1.0
    assert abs(overlap[0, 1] - 1 / 3) < 1e-9
    assert iou_matrix(np.zeros((0, 4)), np.array(boxes)).shape == (0, 2)
