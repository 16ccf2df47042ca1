"""`storefront-edge score`: compare an `eval` result with hand-made labels.

Labels (see tests/data/vtest_labels.json) give people per frame on sampled frames, every
crossing of the evaluated line with its direction and, optionally, how many people appear in the
whole video (against the node's visitors). Scores are given for the whole video and for
each named split, so a threshold tuned on the calibration part can be judged on the held-out part.
"""

from __future__ import annotations

from typing import Any

# A predicted crossing matches a labelled one of the same direction within this many frames
# (1.5 s at 10 fps): labels mark when the feet are on the line, the node decides a little later,
# once the person is clear of the dead band.
MATCH_FRAMES = 15


def _in_range(frame: int, bounds: tuple[int, int] | None) -> bool:
    return bounds is None or bounds[0] <= frame <= bounds[1]


def count_error(
    result: dict[str, Any], labels: dict[str, Any], bounds: tuple[int, int] | None = None
) -> dict[str, Any]:
    predicted = {c["frame"]: c["people"] for c in result["counts"]}
    errors = [
        predicted[label["frame"]] - label["people"]
        for label in labels["people"]
        if _in_range(label["frame"], bounds) and label["frame"] in predicted
    ]
    if not errors:
        return {"frames": 0, "mae": None, "bias": None}
    return {
        "frames": len(errors),
        "mae": round(sum(abs(e) for e in errors) / len(errors), 3),
        "bias": round(sum(errors) / len(errors), 3),
        "labelled_people": sum(
            label["people"] for label in labels["people"] if _in_range(label["frame"], bounds)
        ),
    }


def _match(predicted: list[int], truth: list[int]) -> int:
    """Greedy one-to-one matching of frame numbers within MATCH_FRAMES; returns matches."""
    unused = sorted(predicted)
    matched = 0
    for frame in sorted(truth):
        best = min(unused, key=lambda p: abs(p - frame), default=None)
        if best is not None and abs(best - frame) <= MATCH_FRAMES:
            unused.remove(best)
            matched += 1
    return matched


def crossing_scores(
    result: dict[str, Any], labels: dict[str, Any], bounds: tuple[int, int] | None = None
) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for direction in ("in", "out"):
        truth = [
            c["frame"]
            for c in labels["crossings"]
            if c["direction"] == direction and _in_range(c["frame"], bounds)
        ]
        predicted = [
            c["frame"]
            for c in result["crossings"]
            if c["direction"] == direction and _in_range(c["frame"], bounds)
        ]
        matched = _match(predicted, truth)
        count_accuracy = (
            round(1 - abs(len(predicted) - len(truth)) / len(truth), 3) if truth else None
        )
        scores[direction] = {
            "labelled": len(truth),
            "counted": len(predicted),
            "count_accuracy": count_accuracy,
            "matched": matched,
            "recall": round(matched / len(truth), 3) if truth else None,
            "precision": round(matched / len(predicted), 3) if predicted else None,
        }
    return scores


def visitor_scores(result: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any] | None:
    """The node's visits and visitors over the whole video against the people who appear in it
    (labels' `people_in_clip`); None when either side lacks them."""
    people = labels.get("people_in_clip")
    totals = result.get("totals", {})
    if not people or "visitors" not in totals:
        return None
    distinct = people["distinct_people"]
    return {
        "visits": totals["visits"],
        "visitors": totals["visitors"],
        "distinct_people": distinct,
        "stays": people["stays"],
        "stays_with_an_in_crossing": people["stays_with_an_in_crossing"],
        # visitors / distinct people - 1: +0.1 is 10% more visitors than people
        "visitors_vs_people": round(totals["visitors"] / distinct - 1, 3) if distinct else None,
    }


def score(result: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any]:
    splits: dict[str, tuple[int, int] | None] = {"all": None}
    for name, (first, last) in labels.get("split", {}).items():
        splits[name] = (int(first), int(last))
    scores: dict[str, Any] = {
        name: {
            "count": count_error(result, labels, bounds),
            "crossings": crossing_scores(result, labels, bounds),
        }
        for name, bounds in splits.items()
    }
    visitors = visitor_scores(result, labels)
    if visitors is not None:
        scores["all"]["visitors"] = visitors  # visits span the video, so only for all of it
    return scores
