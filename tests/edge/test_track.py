"""The tracker on hand-built detections: stable ids, no ghosts, occlusion, crossing paths."""

from __future__ import annotations

import numpy as np
import pytest

from edge_node.track import Tracker, TrackerConfig, iou_matrix, split_wide
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


# --- stitching a track across an occlusion (behind a post or another person)

NO_STITCH = TrackerConfig(stitch_gap_s=0.0)


def walk(
    xs: list[float | None], y: float = 0.5, offset_after_gap: float = 0.0
) -> list[list[Detection]]:
    """One person at x per frame; None = hidden. After the first gap the reappearing box is
    shifted by `offset_after_gap` (people come out from behind a post a little off course)."""
    frames: list[list[Detection]] = []
    hidden = False
    for x in xs:
        if x is None:
            hidden = True
            frames.append([])
        else:
            frames.append([person(x + (offset_after_gap if hidden else 0.0), y=y)])
    return frames


def behind_post(gap_frames: int, step: float = 0.02, back_step: float | None = None) -> list:
    """Walks right for 1 s, hidden for `gap_frames`, then walks on (at `back_step` per frame
    from where the walk would have brought them)."""
    xs: list[float | None] = [0.1 + step * i for i in range(10)]
    xs += [None] * gap_frames
    resume = 0.1 + step * (10 + gap_frames)
    after = step if back_step is None else back_step
    xs += [resume + after * i for i in range(10)]
    return xs


def test_a_person_reappearing_from_behind_a_post_keeps_their_track() -> None:
    frames = walk(behind_post(gap_frames=8), offset_after_gap=0.04)
    stitched = {i for ids in run(frames) for i in ids}
    unstitched = {i for ids in run(frames, NO_STITCH) for i in ids}
    assert stitched == {1}
    assert len(unstitched) == 2, "the scene must need stitching for this test to mean anything"


def test_a_gap_too_long_starts_a_new_track() -> None:
    frames = walk(behind_post(gap_frames=20), offset_after_gap=0.04)  # 2 s > stitch_gap_s 1.5
    ids = run(frames, TrackerConfig(max_lost_s=3.0, stitch_gap_s=1.5))
    assert {i for frame in ids for i in frame} == {1, 2}


def test_someone_appearing_where_a_lost_person_was_heading_but_walking_back_is_new() -> None:
    # Appears just behind where the lost person would be, walking back the way they came.
    xs = behind_post(gap_frames=6, back_step=-0.02)
    ids = run(walk(xs, offset_after_gap=-0.04))
    assert {i for frame in ids for i in frame} == {1, 2}
    same_way = run(walk(behind_post(gap_frames=6), offset_after_gap=-0.04))
    assert {i for frame in same_way for i in frame} == {1}, "only the direction differs"


def test_two_people_crossing_paths_one_hidden_by_the_other_keep_their_ids() -> None:
    tracker = Tracker()
    paths: dict[int, list[float]] = {}
    for i in range(40):
        a, b = 0.2 + 0.015 * i, 0.8 - 0.015 * i
        detections = [person(b, y=0.52)]
        if abs(a - b) > 0.08:  # the one walking right is hidden behind the other while close
            detections.append(person(a, y=0.5))
        for track in tracker.update(detections, i / FPS).tracks:
            paths.setdefault(track.track_id, []).append(track.box[0])
    assert len(paths) == 2
    for xs in paths.values():
        steps = np.diff(xs)
        assert np.all(steps >= 0) or np.all(steps <= 0), "a track jumped to the other person"


def test_a_line_crossed_while_hidden_is_counted_once_on_the_stitched_track() -> None:
    from edge_node.analytics.lines import CountingLine, LineCounter

    def crossings(config: TrackerConfig) -> list[str]:
        tracker = Tracker(config)
        counter = LineCounter([CountingLine("door", "Door", (0.42, 0.0), (0.42, 1.0))])
        found: list[str] = []
        # The post stands on the line: hidden from x = 0.3 to x = 0.46.
        for i, dets in enumerate(walk(behind_post(gap_frames=8), offset_after_gap=0.04)):
            out = tracker.update(dets, i / FPS)
            found += [c.direction for c in counter.update(out.tracks, out.ended, i / FPS, i)]
        return found

    assert crossings(TrackerConfig()) == ["out"]  # left to right across this line is "out"
    assert crossings(NO_STITCH) == [], "without stitching the new track starts past the line"


def test_tracker_settings_from_a_profile_cap_the_gaps_at_max_lost() -> None:
    from edge_node.profiles import PROFILES

    profile = PROFILES["nanodet_g_person_int8"]
    config = TrackerConfig.from_profile(profile)
    assert (config.high_threshold, config.min_hits) == (profile.score_threshold, profile.min_hits)
    # A lost track is gone after max_lost_s: no stitch or report can reach further back.
    assert config.stitch_gap_s == min(profile.stitch_gap_s, profile.max_lost_s)
    assert config.report_lost_s <= config.max_lost_s
    assert (config.max_weak_s, config.split_aspect) == (profile.max_weak_s, profile.split_aspect)


# --- weak detections alone keep a track going for at most max_weak_s


def past_a_bollard(weak_frames: int) -> list[list[Detection]]:
    """A person walks right for 1 s up to a bollard and leaves the view behind it; the detector
    keeps weakly taking the bollard for a person for `weak_frames` frames."""
    frames = [[person(0.2 + 0.01 * i)] for i in range(10)]
    return frames + [[person(0.29, score=0.25)] for _ in range(weak_frames)]


def test_weak_detections_alone_end_a_track_after_max_weak_s() -> None:
    limited = run(past_a_bollard(40), TrackerConfig(max_weak_s=1.0, report_lost_s=0.25))
    unlimited = run(past_a_bollard(40), TrackerConfig(max_weak_s=0.0, report_lost_s=0.25))
    assert all(ids == [1] for ids in unlimited[2:]), "without the limit the bollard is a person"
    # The last confident look was at 0.9 s: weak ones continue the track up to 1.9 s, and it
    # is reported for report_lost_s more, then never again.
    assert all(ids == [1] for ids in limited[2:20])
    assert all(ids == [] for ids in limited[22:])


def test_a_confident_detection_restarts_the_weak_allowance() -> None:
    # Partly hidden: weak for 0.8 s, seen clearly once, weak for 0.8 s again, then clear.
    scores = [0.9] * 5 + [0.25] * 8 + [0.9] + [0.25] * 8 + [0.9] * 5
    frames = [[person(0.1 + 0.01 * i, score=s)] for i, s in enumerate(scores)]
    ids = run(frames, TrackerConfig(max_weak_s=1.0, report_lost_s=0.3))
    assert all(frame == [1] for frame in ids[2:]), ids


def test_weak_detections_just_within_max_weak_s_still_continue() -> None:
    scores = [0.9] * 5 + [0.25] * 10 + [0.9] * 3  # last confident at 0.4 s, weak to 1.4 s
    frames = [[person(0.1 + 0.01 * i, score=s)] for i, s in enumerate(scores)]
    assert all(f == [1] for f in run(frames, TrackerConfig(max_weak_s=1.0))[2:])
    # With a shorter allowance the weak run outlasts it: the track coasts, then ends, and the
    # confident detections afterwards start a new person.
    ids = run(frames, TrackerConfig(max_weak_s=0.5, max_lost_s=0.3, report_lost_s=0.1))
    assert {i for f in ids for i in f} == {1, 2}


# --- a box wider than one person is two people side by side

WIDE = TrackerConfig(split_aspect=0.7)


def test_split_wide_halves_a_box_wider_than_split_aspect() -> None:
    # 4:3 frame: 0.12 wide and 0.2 tall is 0.8 in pixels (w/h) — two people.
    pair = Detection(box=(0.40, 0.50, 0.52, 0.70), score=0.8)
    left, right = split_wide([pair], 0.7, 4 / 3)
    assert left.box == pytest.approx((0.40, 0.50, 0.46, 0.70))
    assert right.box == pytest.approx((0.46, 0.50, 0.52, 0.70))
    assert left.score == right.score == 0.8
    one = Detection(box=(0.40, 0.50, 0.49, 0.70), score=0.8)  # 0.6: a person striding
    assert split_wide([one], 0.7, 4 / 3) == [one]
    assert split_wide([pair], 0.0, 4 / 3) == [pair], "0 never splits"
    # The same normalized box on a square frame is only 0.6 wide in pixels.
    assert split_wide([pair], 0.7, 1.0) == [pair]


def test_split_wide_leaves_people_cut_off_at_the_top_or_bottom() -> None:
    at_bottom = Detection(box=(0.40, 0.85, 0.52, 1.0), score=0.8)  # feet out of the frame
    at_top = Detection(box=(0.40, 0.0, 0.52, 0.15), score=0.8)
    assert split_wide([at_bottom, at_top], 0.7, 4 / 3) == [at_bottom, at_top]


def test_split_wide_leaves_weak_boxes_whole() -> None:
    # Weak wide boxes are mostly clutter (a bollard, a rock); only confident ones are split.
    weak = Detection(box=(0.40, 0.50, 0.52, 0.70), score=0.3)
    confident = Detection(box=(0.40, 0.50, 0.52, 0.70), score=0.5)
    assert split_wide([weak], 0.7, 4 / 3, min_score=0.5) == [weak]
    assert len(split_wide([confident], 0.7, 4 / 3, min_score=0.5)) == 2
    # In the tracker the confident threshold is the one that starts tracks.
    tracker = Tracker(TrackerConfig(split_aspect=0.7, high_threshold=0.6, min_hits=1))
    assert len(tracker.update([confident], 0.0).tracks) == 0, "0.5 starts nothing at 0.6"
    assert len(tracker.update([Detection(confident.box, 0.6)], 0.1).tracks) == 2


def side_by_side(x: float, together: bool) -> list[Detection]:
    """Two people 0.06 wide walking side by side: one merged box, or each their own."""
    if together:
        return [Detection(box=(x, 0.5, x + 0.12, 0.7), score=0.8)]
    return [
        Detection(box=(x, 0.5, x + 0.06, 0.7), score=0.8),
        Detection(box=(x + 0.06, 0.5, x + 0.12, 0.7), score=0.8),
    ]


def test_two_people_found_as_one_box_are_two_tracks_and_cross_a_line_twice() -> None:
    from edge_node.analytics.lines import CountingLine, LineCounter

    def crossings(config: TrackerConfig) -> tuple[set[int], list[str]]:
        tracker = Tracker(config)
        counter = LineCounter([CountingLine("door", "Door", (0.42, 0.0), (0.42, 1.0))], 0.01)
        ids: set[int] = set()
        found: list[str] = []
        for i in range(30):  # walking left, merged into one box the whole way
            out = tracker.update(side_by_side(0.7 - 0.015 * i, together=True), i / FPS)
            ids |= {t.track_id for t in out.tracks}
            found += [c.direction for c in counter.update(out.tracks, out.ended, i / FPS, i)]
        return ids, found

    assert crossings(WIDE) == ({1, 2}, ["in", "in"])
    assert crossings(TrackerConfig()) == ({1}, ["in"]), "unsplit the pair is one person"


def test_a_pair_merging_into_one_box_and_parting_again_keeps_both_ids() -> None:
    tracker = Tracker(WIDE)
    seen: list[list[int]] = []
    for i in range(30):
        together = 10 <= i < 20
        out = tracker.update(side_by_side(0.2 + 0.01 * i, together), i / FPS)
        seen.append(sorted(t.track_id for t in out.tracks))
    assert all(ids == [1, 2] for ids in seen[2:]), seen


def test_one_person_is_never_split() -> None:
    # A person striding with arms out: 0.6 wide in pixels at most, below split_aspect.
    frames = [
        [Detection(box=(0.1 + 0.01 * i, 0.5, 0.19 + 0.01 * i, 0.7), score=0.8)] for i in range(20)
    ]
    assert {i for f in run(frames, WIDE) for i in f} == {1}
