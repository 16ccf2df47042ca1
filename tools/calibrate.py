#!/usr/bin/env python3
"""Choose tracking thresholds on the calibration part of a labelled video only.

Runs the detector once per frame (cached), then replays tracking and line counting for a grid
of settings and scores each on the labels' `calibration` split. The held-out split is never
looked at here: judge the chosen settings on it with `storefront-edge eval` + `score`.

    .venv/bin/python tools/calibrate.py --video .assets/vtest.avi \
        --labels tests/data/vtest_labels.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from edge_node.analytics import Analytics
from edge_node.capture import FileReplay
from edge_node.config import LineConfig, parse_config
from edge_node.detect import Detector
from edge_node.score import score
from edge_node.track import Tracker, TrackerConfig
from edge_node.types import Detection


def detections(video: Path, last_frame: int) -> list[tuple[float, list[Detection]]]:
    detector = Detector("bundled", min_score=0.1)
    out = []
    for frame in FileReplay(video):
        if frame.index > last_frame:
            break
        out.append((frame.timestamp, detector.detect(frame.image)))
    return out


def replay(
    cached: list[tuple[float, list[Detection]]],
    labels: dict,
    *,
    high: float,
    low: float,
    min_hits: int,
    max_lost: float,
    margin: float,
    report: float,
) -> dict:
    line = labels["line"]
    config = parse_config(
        {
            "node_id": "calibrate",
            "camera": {"source": "x.avi"},
            "analytics": {"line_margin": margin},
            "lines": [
                LineConfig(
                    id="line", name="Line", start=tuple(line["start"]), end=tuple(line["end"])
                ).model_dump()
            ],
        }
    )
    tracker = Tracker(
        TrackerConfig(
            high_threshold=high,
            low_threshold=low,
            min_hits=min_hits,
            max_lost_s=max_lost,
            report_lost_s=min(report, max_lost),
        )
    )
    analytics = Analytics.from_config(config)
    counts, crossings = [], []
    for index, (ts, dets) in enumerate(cached):
        out = tracker.update(dets, ts)
        update = analytics.update(out.tracks, out.ended, ts, index)
        counts.append({"frame": index, "people": len(out.tracks)})
        crossings += [{"frame": c.frame_index, "direction": c.direction} for c in update.crossings]
    return score({"counts": counts, "crossings": crossings}, labels)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--video", required=True, type=Path)
    parser.add_argument("--labels", required=True, type=Path)
    args = parser.parse_args()
    labels = json.loads(args.labels.read_text())
    first, last = labels["split"]["calibration"]
    calibration = {**labels, "split": {"calibration": [first, last]}}
    cached = detections(args.video, last)
    rows = []
    grid = itertools.product(
        [0.3, 0.4, 0.5], [0.15, 0.25], [2, 3], [1.0, 2.0, 3.0], [0.01, 0.02], [0.0, 0.3, 0.6]
    )
    for high, low, hits, lost, margin, report in grid:
        if low >= high:
            continue
        result = replay(
            cached,
            calibration,
            high=high,
            low=low,
            min_hits=hits,
            max_lost=lost,
            margin=margin,
            report=report,
        )["calibration"]
        crossing_error = sum(
            abs(1 - (v["count_accuracy"] or 0)) for v in result["crossings"].values()
        )
        recall = sum(v["recall"] or 0 for v in result["crossings"].values()) / 2
        rows.append(
            (
                round(crossing_error, 3),
                -recall,
                result["count"]["mae"],
                {
                    "score_threshold": high,
                    "low_score_threshold": low,
                    "min_hits": hits,
                    "max_lost_s": lost,
                    "line_margin": margin,
                    "report_lost_s": report,
                },
            )
        )
    rows.sort(key=lambda r: (r[0] + r[2], r[1]))
    for row in rows[:10]:
        print(
            json.dumps({"crossing_error": row[0], "recall": -row[1], "count_mae": row[2], **row[3]})
        )


if __name__ == "__main__":
    main()
