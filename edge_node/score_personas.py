"""`storefront-edge score` with persona labels: personas and groups against people labelled by eye.

Labels (tests/data/vtest_personas.json) give each labelled person a few feet positions at
sampled frames, a persona and the group they walked with. A visit from `eval` is that person's
when its trace is within `match_distance` of one of their waypoints or more; pairs are taken
best first (most waypoints, then longest), one visit per person.
Scores per split: a persona confusion matrix (labelled → predicted, "missed" when no visit
matched) and group pair precision and recall over the labelled people.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations
from typing import Any


def _hits(visit: dict[str, Any], waypoints: list[list[float]], distance: float) -> int:
    trace = {int(frame): (x, y) for frame, x, y in visit.get("trace", [])}
    hits = 0
    for frame, x, y in waypoints:
        at = trace.get(int(frame))
        if at is not None and math.hypot(at[0] - x, at[1] - y) <= distance:
            hits += 1
    return hits


def match_visits(result: dict[str, Any], labels: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Labelled person id → their visit, one to one: two people whose boxes merged into one
    track have one visit between them, and the other person counts as missed."""
    distance = float(labels.get("match_distance", 0.06))
    candidates = []
    for person in labels["persons"]:
        for visit in result.get("visits", []):
            hits = _hits(visit, person["waypoints"], distance)
            if hits:
                length = visit["end_frame"] - visit["start_frame"]
                candidates.append((hits, length, person["id"], visit))
    matched: dict[str, dict[str, Any]] = {}
    used: set[int] = set()
    for _hits_n, _length, person_id, visit in sorted(candidates, key=lambda c: c[:2], reverse=True):
        if person_id not in matched and visit["track"] not in used:
            matched[person_id] = visit
            used.add(visit["track"])
    return matched


def _pairs(persons: list[dict[str, Any]]) -> set[frozenset[str]]:
    return {
        frozenset((a["id"], b["id"]))
        for a, b in combinations(persons, 2)
        if a.get("group") and a.get("group") == b.get("group")
    }


def _predicted_pairs(
    persons: list[dict[str, Any]], matched: dict[str, dict[str, Any]]
) -> set[frozenset[str]]:
    pairs = set()
    for a, b in combinations(persons, 2):
        va, vb = matched.get(a["id"]), matched.get(b["id"])
        if va is not None and vb is not None and vb["track"] in va.get("group_tracks", []):
            pairs.add(frozenset((a["id"], b["id"])))
    return pairs


def _split_scores(persons: list[dict[str, Any]], matched: dict[str, Any]) -> dict[str, Any]:
    confusion: dict[str, Counter[str]] = {}
    for person in persons:
        visit = matched.get(person["id"])
        label = "missed" if visit is None else str(visit.get("persona"))
        confusion.setdefault(person["persona"], Counter())[label] += 1
    found = [p for p in persons if p["id"] in matched]
    correct = sum(1 for p in found if matched[p["id"]].get("persona") == p["persona"])
    truth, predicted = _pairs(persons), _predicted_pairs(persons, matched)
    hit = len(truth & predicted)
    return {
        "people": len(persons),
        "matched": len(found),
        "persona_accuracy": round(correct / len(found), 3) if found else None,
        "confusion": {label: dict(row) for label, row in sorted(confusion.items())},
        "group_pairs": {
            "labelled": len(truth),
            "predicted": len(predicted),
            "precision": round(hit / len(predicted), 3) if predicted else None,
            "recall": round(hit / len(truth), 3) if truth else None,
        },
    }


def score_personas(result: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any]:
    matched = match_visits(result, labels)
    splits = sorted({p["split"] for p in labels["persons"]})
    scores = {"all": _split_scores(labels["persons"], matched)}
    for name in splits:
        scores[name] = _split_scores([p for p in labels["persons"] if p["split"] == name], matched)
    return scores
