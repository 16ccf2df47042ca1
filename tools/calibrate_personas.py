#!/usr/bin/env python3
"""Choose persona and group thresholds on the calibration part of a labelled video only.

Runs the detector once per frame of the calibration split (cached), then replays tracking and
the persona stage for a small grid of settings and scores each against the persona labels'
`calibration` people. Frames after the calibration split are never decoded here: judge the
chosen settings on the held-out people with `storefront-edge eval` + `score`.

    .venv/bin/python tools/calibrate_personas.py --video .assets/vtest.avi \
        --labels tests/data/vtest_personas.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

from edge_node.analytics import Analytics
from edge_node.capture import FileReplay
from edge_node.config import parse_config
from edge_node.detect import Detector
from edge_node.evaluate import VisitRows
from edge_node.pipeline import build_tracker
from edge_node.score_personas import score_personas
from edge_node.types import Detection

GRID = {
    "min_together_s": [2.0, 3.0, 4.0],
    "min_fraction": [0.5, 0.6, 0.7],
    "lingerer_min_stop_s": [6.0, 8.0, 10.0],
    "passer_min_straightness": [0.6, 0.7, 0.8],
}


def detections(video: Path, last_frame: int) -> tuple[list[tuple[float, list[Detection]]], float]:
    detector = Detector("bundled", min_score=0.1)
    out, aspect = [], 4 / 3
    for frame in FileReplay(video):
        if frame.index > last_frame:
            break
        aspect = frame.image.shape[1] / frame.image.shape[0]
        out.append((frame.timestamp, detector.detect(frame.image)))
    return out, aspect


def replay(cached: list[tuple[float, list[Detection]]], aspect: float, **rules: float) -> Any:
    groups = {k: rules[k] for k in ("min_together_s", "min_fraction")}
    personas = {k: v for k, v in rules.items() if k not in groups} | {"groups": groups}
    config = parse_config({"node_id": "calibrate", "camera": {"source": "x"}, "personas": personas})
    tracker, analytics = build_tracker(config), Analytics.from_config(config)
    analytics.set_frame_size(round(aspect * 1000), 1000)
    rows = VisitRows()
    index, timestamp = 0, 0.0
    for index, (timestamp, found) in enumerate(cached):
        output = tracker.update(found, timestamp)
        update = analytics.update(output.tracks, output.ended, timestamp, index)
        rows.add(index, output.tracks, update.visits)
    rows.close(analytics.update([], tracker.flush(), timestamp, index).visits)
    return {"visits": rows.rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    args = parser.parse_args()
    labels = json.loads(args.labels.read_text(encoding="utf-8"))
    first, last = labels["split"]["calibration"]
    calibration = {
        **labels,
        "persons": [p for p in labels["persons"] if p["split"] == "calibration"],
    }
    cached, aspect = detections(args.video, last)
    results = []
    for values in itertools.product(*GRID.values()):
        rules = dict(zip(GRID, values, strict=True))
        scores = score_personas(replay(cached[first:], aspect, **rules), calibration)["calibration"]
        pairs = scores["group_pairs"]
        results.append(
            {
                **rules,
                "persona_accuracy": scores["persona_accuracy"],
                "pair_recall": pairs["recall"],
                "pair_precision": pairs["precision"],
            }
        )
    results.sort(key=lambda r: (r["persona_accuracy"] or 0) + (r["pair_recall"] or 0), reverse=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
