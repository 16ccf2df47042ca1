#!/usr/bin/env python3
"""Choose a model's profile (thresholds, tracker settings) on the calibration part only.

Runs the detector once per frame of the labels' `calibration` split (frames 0-399 of vtest),
then replays the node's own pipeline — detection rate, tracker, stitching, line counting — for
a grid of settings and scores each on that split. The held-out split is never read here: judge
the chosen profile on it with `storefront-edge eval` + `score` (`make accuracy`).

    .venv/bin/python tools/calibrate.py --video .assets/vtest.avi \\
        --labels tests/data/vtest_labels.json --model bundled --rate-hz 5

Prints the best settings as JSON lines, best first; copy the first into edge_node/profiles.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_node.capture import FileReplay
from edge_node.config import parse_config
from edge_node.detect import Detector
from edge_node.pipeline import Pipeline
from edge_node.profiles import profile_for
from edge_node.score import score
from edge_node.types import Detection, Frame

GRID = {
    "score_threshold": [0.3, 0.4, 0.5],
    "low_score_threshold": [0.15, 0.25],
    "min_hits": [2, 3],
    "max_lost_s": [1.0, 2.0],
    "report_lost_s": [0.3, 0.6],
    "stitch_gap_s": [0.0, 1.5],
    "line_margin": [0.01, 0.02],
}


@dataclass
class ReplayedDetector:
    """Stands in for the detector: returns the detections found once for a frame.

    The replayed frames carry only their index as the image (see `frames`), so the pipeline's
    own rate limit decides on which frames the detector "runs".
    """

    found: list[list[Detection]]
    info: Any = None
    last_invoke_s: float = 0.0
    calls: list[int] = field(default_factory=list)

    def detect(self, image: np.ndarray) -> list[Detection]:
        index = int(image.flat[0])
        self.calls.append(index)
        return self.found[index]


def detect_all(video: Path, model: str, last_frame: int) -> tuple[list[list[Detection]], list]:
    detector = Detector(model, min_score=0.1)
    found, stamps = [], []
    for frame in FileReplay(video):
        if frame.index > last_frame:
            break
        found.append(detector.detect(frame.image))
        stamps.append(frame.timestamp)
    return found, stamps


def replay(
    found: list[list[Detection]], stamps: list[float], labels: dict, settings: dict[str, Any]
) -> dict:
    """The node's pipeline on the cached detections with these settings, scored."""
    line = labels["line"]
    detection = {k: settings[k] for k in ("score_threshold", "low_score_threshold", "rate_hz")}
    tracking = {k: settings[k] for k in ("min_hits", "max_lost_s", "report_lost_s")}
    tracking["stitch_gap_s"] = min(settings["stitch_gap_s"], settings["max_lost_s"])
    config = parse_config(
        {
            "node_id": "calibrate",
            "camera": {"source": "replayed.avi"},
            "detection": {"model": settings["model"], **detection},
            "tracking": tracking,
            "analytics": {"line_margin": settings["line_margin"]},
            "lines": [{"id": "line", "name": "Line", "start": line["start"], "end": line["end"]}],
        }
    )
    pipeline = Pipeline(config, detector=ReplayedDetector(found))  # type: ignore[arg-type]
    counts, crossings = [], []
    for index, ts in enumerate(stamps):
        result = pipeline.process(Frame(index, ts, np.full((1, 1, 1), index, np.int32)))  # type: ignore[arg-type]
        counts.append({"frame": index, "people": result.people})
        crossings += [
            {"frame": c.frame_index, "direction": c.direction} for c in result.analytics.crossings
        ]
    return score({"counts": counts, "crossings": crossings}, labels)


def ranked(rows: list[tuple[dict, dict]]) -> list[dict]:
    """Best first: crossing count errors plus count MAE, then matched crossings."""
    out = []
    for settings, result in rows:
        crossings = result["crossings"].values()
        error = sum(abs(1 - (v["count_accuracy"] or 0)) for v in crossings)
        recall = sum(v["recall"] or 0 for v in crossings) / 2
        precision = min(v["precision"] or 0 for v in crossings)
        out.append(
            {
                "objective": round(error + result["count"]["mae"], 3),
                "crossing_error": round(error, 3),
                "recall": round(recall, 3),
                "min_precision": precision,
                "count_mae": result["count"]["mae"],
                **{k: v for k, v in settings.items() if k not in ("model", "rate_hz")},
            }
        )
    return sorted(out, key=lambda r: (r["objective"], -r["recall"], -r["min_precision"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", required=True, type=Path)
    parser.add_argument("--labels", required=True, type=Path)
    parser.add_argument("--model", default="bundled", help="bundled model name or .tflite path")
    parser.add_argument("--rate-hz", type=float, help="detection rate (default: every frame)")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    labels = json.loads(args.labels.read_text())
    first, last = labels["split"]["calibration"]
    calibration = {**labels, "split": {"calibration": [first, last]}}
    found, stamps = detect_all(args.video, args.model, last)
    rows = []
    for values in itertools.product(*GRID.values()):
        settings = dict(zip(GRID, values, strict=True))
        if settings["low_score_threshold"] >= settings["score_threshold"]:
            continue
        settings.update(model=args.model, rate_hz=args.rate_hz)
        result = replay(found, stamps, calibration, settings)["calibration"]
        rows.append((settings, result))
        if len(rows) % 50 == 0:
            print(f"calibrate: {len(rows)} settings replayed", file=sys.stderr, flush=True)
    current = profile_for(args.model)
    print(json.dumps({"model": args.model, "rate_hz": args.rate_hz, "profile_now": str(current)}))
    for row in ranked(rows)[: args.top]:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
