#!/usr/bin/env python3
"""Choose persona and group thresholds on the calibration part of a labelled video only.

Runs the node's default detector once per frame of the calibration split (cached, with
`tools/calibrate.py`'s replay), then runs the node's own pipeline — detection rate, tracker,
stitching, the persona stage — for a small grid of settings and scores each against the persona
labels' `calibration` people. Frames after the calibration split are never decoded here: judge
the chosen settings on the held-out people with `make accuracy-personas`.

    .venv/bin/python tools/calibrate_personas.py --video .assets/vtest.avi \
        --labels tests/data/vtest_personas.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
from calibrate import ReplayedDetector, detect_all  # tools/calibrate.py, next to this file

from edge_node.config import parse_config
from edge_node.evaluate import VisitRows
from edge_node.pipeline import Pipeline
from edge_node.score_personas import score_personas
from edge_node.types import Detection, Frame

GRID = {
    "min_together_s": [2.0, 3.0, 4.0],
    "min_fraction": [0.5, 0.6, 0.7],
    "lingerer_min_stop_s": [6.0, 8.0, 10.0],
    "passer_min_straightness": [0.6, 0.7, 0.8],
}
FRAME_SIZE = (576, 768)  # vtest's; the persona stage measures distances with its aspect


def replay(found: list[list[Detection]], stamps: list[float], **rules: float) -> dict[str, Any]:
    """The node's pipeline on the cached detections with these persona rules: eval's visits."""
    groups = {k: rules[k] for k in ("min_together_s", "min_fraction")}
    personas = {k: v for k, v in rules.items() if k not in groups} | {"groups": groups}
    config = parse_config({"node_id": "calibrate", "camera": {"source": "x"}, "personas": personas})
    pipeline = Pipeline(config, detector=ReplayedDetector(found))  # type: ignore[arg-type]
    rows = VisitRows()
    index, timestamp = 0, 0.0
    for index, timestamp in enumerate(stamps):
        # A zero-copy image of the frame's size whose pixels carry its index (for the replay).
        image = np.broadcast_to(np.int32(index), (*FRAME_SIZE, 1))
        result = pipeline.process(Frame(index, timestamp, image))  # type: ignore[arg-type]
        rows.add(index, result.tracks, result.analytics.visits)
    rows.close(pipeline.finish(timestamp, index)[0].visits)
    return {"visits": rows.rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    args = parser.parse_args()
    labels = json.loads(args.labels.read_text(encoding="utf-8"))
    _, last = labels["split"]["calibration"]
    people = [p for p in labels["persons"] if p["split"] == "calibration"]
    calibration = {**labels, "persons": people}
    model = parse_config({"node_id": "calibrate", "camera": {"source": "x"}}).detection.model
    footage = detect_all(args.video, model, last)
    found, stamps = footage.found, footage.stamps
    results = []
    for values in itertools.product(*GRID.values()):
        rules = dict(zip(GRID, values, strict=True))
        scores = score_personas(replay(found, stamps, **rules), calibration)["calibration"]
        pairs = scores["group_pairs"]
        results.append(
            {
                **rules,
                "persona_accuracy": scores["persona_accuracy"],
                "pair_recall": pairs["recall"],
                "pair_precision": pairs["precision"],
            }
        )
    # Best first; among equally good settings the strictest (a group or a lingerer needs the
    # most evidence) comes first.
    results.sort(
        key=lambda r: (
            (r["persona_accuracy"] or 0) + (r["pair_recall"] or 0),
            r["pair_precision"] or 0,
            *(r[k] for k in GRID),
        ),
        reverse=True,
    )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
