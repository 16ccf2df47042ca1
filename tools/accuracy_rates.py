#!/usr/bin/env python3
"""Replay a labelled video through the node at several detection rates and models, and score
each run on both splits: how low can `detection.rate_hz` go before the counts go wrong?

    .venv/bin/python tools/accuracy_rates.py --video .assets/vtest.avi \\
        --labels tests/data/vtest_labels.json --models bundled,ssdlite --rates 10,7,6,5,4,3,2

One JSON line per model and rate (`make accuracy-rates` writes them to .run/bench/).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from edge_node.evaluate import eval_config, run_eval
from edge_node.score import score


def summary(scores: dict[str, Any]) -> dict[str, Any]:
    """The figures docs/accuracy.md reports, per split."""
    out: dict[str, Any] = {}
    for split, result in scores.items():
        row: dict[str, Any] = {"mae": result["count"]["mae"], "bias": result["count"]["bias"]}
        for direction, c in result["crossings"].items():
            row[direction] = (
                f"{c['counted']}/{c['labelled']} matched {c['matched']} "
                f"P {c['precision']} R {c['recall']}"
            )
        out[split] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", required=True, type=Path)
    parser.add_argument("--labels", required=True, type=Path)
    parser.add_argument("--line", default="0.42,0,0.42,1")
    parser.add_argument("--models", default="bundled,ssdlite")
    parser.add_argument("--rates", default="10,7,6,5,4,3,2", help="detections per second")
    args = parser.parse_args()
    labels = json.loads(args.labels.read_text())
    for model in args.models.split(","):
        for rate in (float(r) for r in args.rates.split(",")):
            config = eval_config(args.video, None, args.line, model=model, rate_hz=rate)
            result = run_eval(args.video, config)
            row = {"model": model, "rate_hz": rate, "totals": result["totals"]}
            print(json.dumps({**row, **summary(score(result, labels))}), flush=True)


if __name__ == "__main__":
    main()
