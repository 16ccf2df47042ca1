"""`storefront-edge eval`: replay a video offline, as fast as possible, and report what the node
would publish for every frame — people in view and line crossings — without MQTT."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .capture import FileReplay
from .config import LineConfig, NodeConfig, load_config, parse_config
from .pipeline import Pipeline


def parse_line(text: str) -> LineConfig:
    """'X1,Y1,X2,Y2' in normalized coordinates → a counting line named 'line'."""
    try:
        x1, y1, x2, y2 = (float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(
            f"--line {text!r}: give four numbers X1,Y1,X2,Y2 between 0 and 1, e.g. 0.5,0,0.5,1"
        ) from None
    return LineConfig(id="line", name="Line", start=(x1, y1), end=(x2, y2))


def eval_config(
    video: str | Path,
    config_path: str | Path | None,
    line: str | None,
    *,
    model: str | None = None,
    rate_hz: float | None = None,
) -> NodeConfig:
    """The config to evaluate with: the file's (if any), pointed at `video`, with the line, the
    model and the detection rate (0 = every frame) overridden where given."""
    if config_path is not None:
        config = load_config(config_path)
    else:
        config = parse_config({"node_id": "eval", "camera": {"source": str(video)}})
    config = config.model_copy(
        update={"camera": config.camera.model_copy(update={"source": str(video)})}
    )
    if line is not None:
        config = config.model_copy(update={"lines": [parse_line(line)]})
    detection: dict[str, Any] = {}
    if model is not None:
        detection["model"] = model
    if rate_hz is not None:
        if rate_hz < 0 or rate_hz > 120:
            raise ValueError(f"--rate-hz {rate_hz}: give 0 (every frame) or a rate up to 120")
        detection["rate_hz"] = rate_hz or None
    if detection:
        # Validated again as a whole: the model's profile and its checks follow the model.
        data = config.model_dump()
        data["detection"].update(detection)
        config = parse_config(data, origin="eval")
    return config


def run_eval(video: str | Path, config: NodeConfig) -> dict[str, Any]:
    replay = FileReplay(video)
    pipeline = Pipeline(config)
    counts: list[dict[str, int]] = []
    crossings: list[dict[str, Any]] = []
    start = time.perf_counter()
    last_index, last_ts = -1, 0.0
    for frame in replay:
        result = pipeline.process(frame)
        counts.append({"frame": frame.index, "people": result.people})
        crossings.extend(
            {"frame": c.frame_index, "direction": c.direction, "track": c.track_id}
            for c in result.analytics.crossings
        )
        last_index, last_ts = frame.index, frame.timestamp
    pipeline.finish(last_ts, last_index)
    wall = time.perf_counter() - start
    totals = {
        "in": sum(1 for c in crossings if c["direction"] == "in"),
        "out": sum(1 for c in crossings if c["direction"] == "out"),
    }
    return {
        "frames": len(counts),
        "fps": round(len(counts) / wall, 2) if wall > 0 else 0.0,
        "counts": counts,
        "crossings": crossings,
        "totals": totals,
    }
