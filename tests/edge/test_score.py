"""Scoring an eval result against labels: count error and crossing matching per direction."""

from __future__ import annotations

import json
from pathlib import Path

from edge_node.cli import main
from edge_node.score import MATCH_FRAMES, score

LABELS = {
    "people": [{"frame": 0, "people": 2}, {"frame": 10, "people": 3}, {"frame": 20, "people": 1}],
    "crossings": [
        {"frame": 5, "direction": "in"},
        {"frame": 50, "direction": "in"},
        {"frame": 12, "direction": "out"},
    ],
    "split": {"calibration": [0, 15], "held_out": [16, 60]},
}


def _result(counts: dict[int, int], crossings: list[tuple[int, str]]) -> dict[str, object]:
    return {
        "counts": [{"frame": f, "people": n} for f, n in sorted(counts.items())],
        "crossings": [
            {"frame": f, "direction": d, "track": i} for i, (f, d) in enumerate(crossings)
        ],
    }


def test_perfect_result_scores_perfectly() -> None:
    result = _result({0: 2, 10: 3, 20: 1}, [(7, "in"), (52, "in"), (12, "out")])
    scores = score(result, LABELS)["all"]
    assert scores["count"] == {"frames": 3, "mae": 0.0, "bias": 0.0, "labelled_people": 6}
    assert scores["crossings"]["in"]["count_accuracy"] == 1.0
    assert scores["crossings"]["in"]["recall"] == 1.0
    assert scores["crossings"]["out"]["precision"] == 1.0


def test_errors_are_measured_per_split_and_direction() -> None:
    # One person too many at frame 10; the 'in' at 50 missed; a spurious 'out' far from any label.
    result = _result({0: 2, 10: 4, 20: 1}, [(6, "in"), (12, "out"), (40, "out")])
    scores = score(result, LABELS)
    assert scores["all"]["count"]["mae"] == round(1 / 3, 3)
    assert scores["all"]["count"]["bias"] == round(1 / 3, 3)
    assert scores["calibration"]["crossings"]["in"] == {
        "labelled": 1,
        "counted": 1,
        "count_accuracy": 1.0,
        "matched": 1,
        "recall": 1.0,
        "precision": 1.0,
    }
    held_out = scores["held_out"]["crossings"]
    assert held_out["in"]["labelled"] == 1
    assert held_out["in"]["counted"] == 0
    assert held_out["in"]["recall"] == 0.0
    assert held_out["out"]["labelled"] == 0
    assert held_out["out"]["precision"] == 0.0


def test_crossing_too_far_in_time_does_not_match() -> None:
    result = _result({}, [(5 + MATCH_FRAMES + 1, "in"), (50, "in"), (12, "in")])
    crossings = score(result, LABELS)["all"]["crossings"]
    assert crossings["in"]["matched"] == 2  # 50 matches 50; 12 matches 5 (7 frames away)
    assert crossings["in"]["counted"] == 3
    assert crossings["out"]["recall"] == 0.0


def test_score_command(tmp_path: Path) -> None:
    eval_path = tmp_path / "eval.json"
    labels_path = tmp_path / "labels.json"
    out = tmp_path / "score.json"
    eval_path.write_text(json.dumps(_result({0: 2}, [(5, "in")])))
    labels_path.write_text(json.dumps(LABELS))
    assert (
        main(
            ["score", "--eval", str(eval_path), "--labels", str(labels_path), "--output", str(out)]
        )
        == 0
    )
    assert json.loads(out.read_text())["all"]["crossings"]["in"]["matched"] == 1
    assert main(["score", "--eval", str(tmp_path / "nope.json"), "--labels", str(labels_path)]) == 2


PERSONA_LABELS = {
    "match_distance": 0.06,
    "persons": [
        {"id": "a", "split": "calibration", "persona": "browser", "group": "g1",
         "waypoints": [[0, 0.10, 0.50], [10, 0.20, 0.50]]},
        {"id": "b", "split": "calibration", "persona": "browser", "group": "g1",
         "waypoints": [[0, 0.12, 0.56], [10, 0.22, 0.56]]},
        {"id": "c", "split": "held_out", "persona": "passer_by",
         "waypoints": [[400, 0.80, 0.30], [410, 0.70, 0.30]]},
        {"id": "d", "split": "held_out", "persona": "lingerer",
         "waypoints": [[420, 0.50, 0.90]]},
    ],
}  # fmt: skip


def _visit(
    track: int, persona: str, trace: list[list[float]], group: list[int]
) -> dict[str, object]:
    frames = [int(f) for f, _x, _y in trace]
    return {
        "track": track, "start_frame": min(frames), "end_frame": max(frames), "persona": persona,
        "trace": trace, "group_tracks": group,
    }  # fmt: skip


def test_personas_and_group_pairs_are_scored_per_split(tmp_path: Path) -> None:
    visits = [
        _visit(1, "browser", [[0, 0.10, 0.51], [10, 0.21, 0.50]], [2]),
        _visit(2, "lingerer", [[0, 0.12, 0.55], [10, 0.22, 0.57]], [1]),
        _visit(3, "passer_by", [[400, 0.80, 0.31], [410, 0.70, 0.30]], []),
        # Near person d at another frame only: not theirs, so d is missed.
        _visit(4, "lingerer", [[430, 0.50, 0.90]], []),
        # Far from everyone: matches no label.
        _visit(5, "browser", [[0, 0.90, 0.10]], []),
    ]
    eval_path, labels_path, out = tmp_path / "eval.json", tmp_path / "p.json", tmp_path / "s.json"
    eval_path.write_text(json.dumps({"visits": visits}))
    labels_path.write_text(json.dumps(PERSONA_LABELS))

    assert main(["score", "--eval", str(eval_path), "--labels", str(labels_path),
                 "--output", str(out)]) == 0  # fmt: skip
    scores = json.loads(out.read_text())

    calibration = scores["calibration"]
    assert (calibration["people"], calibration["matched"]) == (2, 2)
    assert calibration["persona_accuracy"] == 0.5
    assert calibration["confusion"] == {"browser": {"browser": 1, "lingerer": 1}}
    assert calibration["group_pairs"] == {
        "labelled": 1, "predicted": 1, "precision": 1.0, "recall": 1.0,
    }  # fmt: skip
    held_out = scores["held_out"]
    assert (held_out["people"], held_out["matched"]) == (2, 1)
    assert held_out["confusion"] == {"lingerer": {"missed": 1}, "passer_by": {"passer_by": 1}}
    assert held_out["persona_accuracy"] == 1.0
    assert held_out["group_pairs"] == {
        "labelled": 0, "predicted": 0, "precision": None, "recall": None,
    }  # fmt: skip
    assert scores["all"]["matched"] == 3


def test_one_visit_goes_to_one_person_best_match_first() -> None:
    from edge_node.score_personas import match_visits

    # One merged track passes both people of the pair; it is the one with more hits.
    merged = _visit(7, "browser", [[0, 0.11, 0.53], [10, 0.21, 0.50]], [])
    matched = match_visits({"visits": [merged]}, PERSONA_LABELS)
    assert list(matched) == ["a"]


def test_visitors_are_set_against_the_people_in_the_clip() -> None:
    labels = {
        **LABELS,
        "people_in_clip": {"distinct_people": 4, "stays": 6, "stays_with_an_in_crossing": 3},
    }
    result = {**_result({0: 2}, []), "totals": {"in": 0, "out": 0, "visits": 7, "visitors": 5}}
    scores = score(result, labels)
    assert scores["all"]["visitors"] == {
        "visits": 7,
        "visitors": 5,
        "distinct_people": 4,
        "stays": 6,
        "stays_with_an_in_crossing": 3,
        "visitors_vs_people": 0.25,
    }
    assert "visitors" not in scores["held_out"], "visits span the video, not a split"
    assert "visitors" not in score(result, LABELS)["all"], "no people_in_clip: nothing to say"
    assert "visitors" not in score(_result({0: 2}, []), labels)["all"], "an older eval result"
