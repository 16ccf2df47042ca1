"""Shelf accuracy: compose the scoring scenes, run `storefront-edge eval` on each, score it.

Events are matched one to one with the truth (same product, same change) within ±3 s; the
window is centred on the frame when the change first became visible (the person in front gone)
and, for reference, on the frame it happened. Stock error is the mean absolute difference of the
node's product levels from the truth over the clip, sampled every frame. Scenes without changes
(people passing, light ±20%, camera noise) must give zero events.

`python -m storefront_dev.shelf_accuracy ASSETS WORK_DIR [--tuning]` prints JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from edge_node.evaluate import eval_config, run_eval

from .shelf_scenes import SCORING, TUNING, ShelfScene, compose

WINDOW_S = 3.0
MOVES = ("taken", "returned", "restocked")


def match_events(
    truth: list[dict[str, Any]],
    found: list[dict[str, Any]],
    fps: float,
    key: str,
    window_s: float = WINDOW_S,
) -> int:
    """How many found events pair one-to-one with a true one within the window around `key`."""
    used: set[int] = set()
    matched = 0
    for event in truth:
        for i, candidate in enumerate(found):
            if i in used or (candidate["product"], candidate["change"]) != (
                event["product"],
                event["change"],
            ):
                continue
            if abs(candidate["frame"] - event[key]) <= window_s * fps:
                used.add(i)
                matched += 1
                break
    return matched


def stock_error(truth: dict[str, Any], stock: list[dict[str, Any]]) -> float:
    """Mean |node level - true level| over frames and products."""
    errors = []
    for product in truth["products"]:
        true_steps = [(e["frame"], e["level"]) for e in truth["events"] if e["product"] == product]
        node_steps = [(s["frame"], s["level"]) for s in stock if s["product"] == product]
        for frame in range(truth["frames"]):
            true = next((lv for f, lv in reversed(true_steps) if f <= frame), 1.0)
            node = next((lv for f, lv in reversed(node_steps) if f <= frame), 1.0)
            errors.append(abs(true - node))
    return round(sum(errors) / len(errors), 4) if errors else 0.0


def score_scene(scene: ShelfScene, assets: Path, work: Path) -> dict[str, Any]:
    truth_path = work / f"{scene.name}.truth.json"
    truth = (
        json.loads(truth_path.read_text()) if truth_path.exists() else compose(scene, assets, work)
    )
    video = work / truth["video"]
    result = run_eval(video, eval_config(video, work / f"{scene.name}.yaml", None))
    found = [e for e in result["shelf_events"] if e["change"] in MOVES]
    fps = truth["fps"]
    return {
        "scene": scene.name,
        "true_events": len(truth["events"]),
        "found_events": len(found),
        "matched_visible": match_events(truth["events"], found, fps, "visible_frame"),
        "matched_change": match_events(truth["events"], found, fps, "frame"),
        "stock_mae": stock_error(truth, result["stock"]),
        "attributed": sum(1 for e in found if e["track"] is not None),
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    true = sum(r["true_events"] for r in rows)
    found = sum(r["found_events"] for r in rows)

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    visible = sum(r["matched_visible"] for r in rows)
    change = sum(r["matched_change"] for r in rows)
    with_changes = [r for r in rows if r["true_events"]]
    return {
        "precision": ratio(visible, found),
        "recall": ratio(visible, true),
        "recall_from_change": ratio(change, true),
        "stock_mae": round(sum(r["stock_mae"] for r in with_changes) / len(with_changes), 4)
        if with_changes
        else None,
        "events_without_changes": {
            r["scene"]: r["found_events"] for r in rows if not r["true_events"]
        },
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m storefront_dev.shelf_accuracy ASSETS WORK_DIR [--tuning]")
        return 2
    assets, work = Path(argv[0]), Path(argv[1])
    work.mkdir(parents=True, exist_ok=True)
    scenes = TUNING if "--tuning" in argv else SCORING
    rows = [score_scene(scene, assets, work) for scene in scenes]
    print(json.dumps({"scenes": rows, "summary": summary(rows)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
