#!/usr/bin/env python3
"""Choose a model's profile (thresholds, tracker settings) on the calibration part only.

Runs the detector once per frame of the labels' `calibration` split (frames 0-399 of vtest),
then replays the node's own pipeline — detection rate, tracker, stitching, line counting — for
a grid of settings and scores each on that split. The held-out split is never read here: judge
the chosen profile on it with `storefront-edge eval` + `score` (`make accuracy`).

    .venv/bin/python tools/calibrate.py --video .assets/vtest.avi \\
        --labels tests/data/vtest_labels.json --model bundled --rate-hz 5,6,7

Each setting is replayed at every detection phase given (`--phases 2`: the detector's first look
on frame 0, then on frame 1), since which frames the detector happens to look at decides as much
on 40 labelled frames as a setting does; the figures are averaged over the phases. Ties go to
the setting with the fewest changes from the model's profile, then to the lower rate.

`detection.split_aspect` is not searched: with `--split` it follows from the people of the
calibration part, midway between the widest box of one person there and two typical people side
by side (twice the median width over height of one person). Only for footage where everyone is
seen whole and from afar: from close by, one person's head and shoulders are as wide.

Prints the split rule's figures, then the best settings as JSON lines, best first; copy the
first, with its rate, into edge_node/profiles.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
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
from edge_node.types import Detection, Frame, Track

GRID = {
    "score_threshold": [0.4, 0.5, 0.6],
    "low_score_threshold": [0.15, 0.25],
    "min_hits": [2, 3],
    "max_lost_s": [1.0, 2.0],
    "report_lost_s": [0.3, 0.6],
    "stitch_gap_s": [0.0, 1.5],
    "line_margin": [0.01, 0.02],
    "max_weak_s": [0.0, 1.0, 2.0, 4.0],
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


@dataclass
class Footage:
    """The calibration part's detections, found once, with each frame's time and the frame's
    shape reduced to its aspect (the tracker measures boxes in pixels)."""

    found: list[list[Detection]]
    stamps: list[float]
    shape: tuple[int, int]  # rows, columns, divided by their greatest common divisor


def detect_all(video: Path, model: str, last_frame: int) -> Footage:
    detector = Detector(model, min_score=0.1)
    found, stamps, shape = [], [], (3, 4)
    for frame in FileReplay(video):
        if frame.index > last_frame:
            break
        found.append(detector.detect(frame.image))
        stamps.append(frame.timestamp)
        rows, columns = frame.image.shape[:2]
        divisor = math.gcd(rows, columns) or 1
        shape = (rows // divisor, columns // divisor)
    return Footage(found, stamps, shape)


def replay(
    footage: Footage, labels: dict, settings: dict[str, Any], first: int = 0
) -> tuple[dict, list[tuple[Track, ...]]]:
    """The node's pipeline on the cached detections with these settings from frame `first` on,
    scored; also the tracks it reported on each frame (none before `first`)."""
    line = labels["line"]
    detection = {
        k: settings[k]
        for k in ("score_threshold", "low_score_threshold", "rate_hz", "split_aspect")
        if k in settings
    }
    tracking = {k: settings[k] for k in ("min_hits", "max_lost_s", "report_lost_s", "max_weak_s")}
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
    pipeline = Pipeline(config, detector=ReplayedDetector(footage.found))  # type: ignore[arg-type]
    counts, crossings = [], []
    tracks: list[tuple[Track, ...]] = [()] * first
    for index in range(first, len(footage.stamps)):
        image = np.full((*footage.shape, 1), index, np.int32)
        result = pipeline.process(Frame(index, footage.stamps[index], image))  # type: ignore[arg-type]
        counts.append({"frame": index, "people": result.people})
        tracks.append(result.tracks)
        crossings += [
            {"frame": c.frame_index, "direction": c.direction} for c in result.analytics.crossings
        ]
    return score({"counts": counts, "crossings": crossings}, labels), tracks


def figures(result: dict) -> dict[str, float]:
    """One phase's figures: crossing count errors, count MAE, matched crossings, precision."""
    crossings = result["crossings"].values()
    return {
        "crossing_error": sum(abs(1 - (v["count_accuracy"] or 0)) for v in crossings),
        "count_mae": result["count"]["mae"],
        "recall": sum(v["recall"] or 0 for v in crossings) / 2,
        "min_precision": min(v["precision"] or 0 for v in crossings),
    }


def phased(footage: Footage, labels: dict, settings: dict[str, Any], phases: int) -> dict:
    """The figures averaged over detection phases (the first look on frame 0, 1, ...)."""
    per_phase = [
        figures(replay(footage, labels, settings, first)[0]["calibration"])
        for first in range(phases)
    ]
    mean = {k: sum(p[k] for p in per_phase) / phases for k in per_phase[0]}
    mean["min_precision"] = min(p["min_precision"] for p in per_phase)
    return mean


def changes(settings: dict[str, Any], profile: dict[str, Any]) -> int:
    """How many settings (the rate too) differ from the model's profile."""
    return sum(1 for k, v in settings.items() if k in profile and profile[k] != v)


def ranked(rows: list[tuple[dict, dict]], profile: dict[str, Any]) -> list[dict]:
    """Best first: crossing count errors plus count MAE, then matched crossings, then precision,
    then the fewest changes from the profile, then the lower rate."""
    out = []
    for settings, mean in rows:
        out.append(
            {
                "objective": round(mean["crossing_error"] + mean["count_mae"], 3),
                "crossing_error": round(mean["crossing_error"], 3),
                "recall": round(mean["recall"], 3),
                "min_precision": mean["min_precision"],
                "count_mae": round(mean["count_mae"], 3),
                "changes": changes(settings, profile),
                **{k: v for k, v in settings.items() if k != "model"},
            }
        )
    return sorted(
        out,
        key=lambda r: (
            r["objective"],
            -r["recall"],
            -r["min_precision"],
            r["changes"],
            r["rate_hz"] or 0,
        ),
    )


def split_rule(footage: Footage, labels: dict, settings: dict[str, Any]) -> dict[str, float]:
    """`split_aspect` from the calibration part's people: the boxes of confident detections
    that continued a confirmed track with these settings (splitting off), not cut off at the
    frame's top or bottom; midway between the widest of them and twice their median."""
    _, tracks = replay(footage, labels, {**settings, "split_aspect": 0.0})
    rows, columns = footage.shape
    aspects = [
        (x2 - x1) * columns / rows / (y2 - y1)
        for frame in tracks
        for t in frame
        for x1, y1, x2, y2 in [t.box]
        if t.score >= settings["score_threshold"] and y1 > 0.005 and y2 < 0.995
    ]
    widest, median = max(aspects), float(np.median(aspects))
    return {
        "people_boxes": len(aspects),
        "median_aspect": round(median, 3),
        "widest_aspect": round(widest, 3),
        "split_aspect": round((widest + 2 * median) / 2, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", required=True, type=Path)
    parser.add_argument("--labels", required=True, type=Path)
    parser.add_argument("--model", default="bundled", help="bundled model name or .tflite path")
    parser.add_argument(
        "--rate-hz",
        default="5",
        help="detection rates to choose from, comma-separated; 0 = every frame (default: 5)",
    )
    parser.add_argument("--phases", type=int, default=2, help="detection phases to average")
    parser.add_argument(
        "--score-thresholds",
        default=",".join(str(v) for v in GRID["score_threshold"]),
        help="detection.score_threshold values to search, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--split", action="store_true", help="split boxes wider than the calibration's people"
    )
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    GRID["score_threshold"] = [float(v) for v in args.score_thresholds.split(",")]
    labels = json.loads(args.labels.read_text())
    first, last = labels["split"]["calibration"]
    calibration = {**labels, "split": {"calibration": [first, last]}}
    footage = detect_all(args.video, args.model, last)
    rates = [float(r) or None for r in args.rate_hz.split(",")]
    current = profile_for(args.model)
    profile = {k: getattr(current, k) for k in (*GRID, "rate_hz")}
    base = {**profile, "model": args.model, "rate_hz": rates[0]}
    rule = split_rule(footage, calibration, base) if args.split else {"split_aspect": 0.0}
    print(json.dumps({"model": args.model, "profile_now": str(current), "split_rule": rule}))
    rows = []
    for rate, values in itertools.product(rates, itertools.product(*GRID.values())):
        settings = dict(zip(GRID, values, strict=True))
        if settings["low_score_threshold"] >= settings["score_threshold"]:
            continue
        settings.update(model=args.model, rate_hz=rate, split_aspect=rule["split_aspect"])
        rows.append((settings, phased(footage, calibration, settings, args.phases)))
        if len(rows) % 50 == 0:
            print(f"calibrate: {len(rows)} settings replayed", file=sys.stderr, flush=True)
    for row in ranked(rows, profile)[: args.top]:
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
