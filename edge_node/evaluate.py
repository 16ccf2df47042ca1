"""`storefront-edge eval`: replay a video offline, as fast as possible, and report what the node
would publish for every frame — people in view, line crossings, visits, display impressions, shelf
changes and stock levels (on change) — without MQTT."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .analytics import VisitSummary, is_visitor
from .audience import AudienceUpdate
from .capture import FileReplay
from .config import LineConfig, NodeConfig, load_config, parse_config
from .pipeline import Pipeline
from .types import Track

# Every this many frames a visit's feet position is kept in the eval output (`trace`), so that
# `score` can tell which labelled person a visit was. Offline output only: never published.
TRACE_EVERY = 10


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
    visits = VisitRows({line.id for line in config.lines if line.entrance})
    impressions: list[dict[str, Any]] = []
    shelf_events: list[dict[str, Any]] = []
    stock: list[dict[str, Any]] = []
    start = time.perf_counter()
    last_index, last_ts = -1, 0.0
    for frame in replay:
        result = pipeline.process(frame)
        counts.append({"frame": frame.index, "people": result.people})
        crossings.extend(
            {"frame": c.frame_index, "direction": c.direction, "track": c.track_id}
            for c in result.analytics.crossings
        )
        visits.add(frame.index, result.tracks, result.analytics.visits)
        impressions.extend(impression_rows(result.audience))
        shelf_events.extend(
            {
                "frame": e.frame_index,
                "shelf": e.shelf,
                "product": e.product,
                "change": e.change,
                "track": e.track,
            }
            for e in result.shelves.events
        )
        stock.extend(
            {"frame": frame.index, "shelf": s.shelf, "product": s.product, "level": s.level}
            for s in result.shelves.stock
        )
        last_index, last_ts = frame.index, frame.timestamp
    final, audience = pipeline.finish(last_ts, last_index)
    visits.close(final.visits)
    impressions.extend(impression_rows(audience))
    wall = time.perf_counter() - start
    totals = {
        "in": sum(1 for c in crossings if c["direction"] == "in"),
        "out": sum(1 for c in crossings if c["direction"] == "out"),
        "visits": len(visits.rows),
        # What the node's "visitors today" would count for this video (analytics.is_visitor).
        "visitors": sum(1 for row in visits.rows if row["visitor"]),
    }
    return {
        "frames": len(counts),
        "fps": round(len(counts) / wall, 2) if wall > 0 else 0.0,
        "counts": counts,
        "crossings": crossings,
        "totals": totals,
        "visits": visits.rows,
        "impressions": impressions,
        "shelf_events": shelf_events,
        "stock": stock,
    }


class VisitRows:
    """The eval's `visits` rows: each finished visit with its first and last frame, and whether
    the node counts it as a visitor (`entrances`: the ids of the entrance lines)."""

    def __init__(self, entrances: set[str] | None = None) -> None:
        self.entrances = entrances or set()
        self.frames: dict[int, list[int]] = {}
        self.trace: dict[int, list[list[float]]] = {}
        self.rows: list[dict[str, Any]] = []

    def add(self, frame_index: int, tracks: Iterable[Track], visits: list[VisitSummary]) -> None:
        for track in tracks:
            span = self.frames.setdefault(track.track_id, [frame_index] * 2)
            span[1] = frame_index
            if frame_index % TRACE_EVERY == 0:
                x, y = track.anchor
                point = [frame_index, round(x, 3), round(y, 3)]
                self.trace.setdefault(track.track_id, []).append(point)
        self.close(visits)

    def close(self, visits: list[VisitSummary]) -> None:
        for visit in visits:
            first, last = self.frames.get(visit.track_id, [0, 0])
            self.rows.append(
                {
                    "track": visit.track_id,
                    "start_frame": first,
                    "end_frame": last,
                    "dwell_s": round(visit.duration_s, 1),
                    "zones": {zone: round(s, 1) for zone, s in visit.zones.items()},
                    "persona": visit.persona,
                    "group_size": visit.group_size,
                    "staff": visit.staff,
                    "visitor": is_visitor(visit, self.entrances),
                    "group_tracks": list(visit.group_tracks),
                    "trace": self.trace.get(visit.track_id, []),
                    "features": _features(visit),
                }
            )


def _features(visit: VisitSummary) -> dict[str, Any] | None:
    if visit.features is None:
        return None
    f = visit.features
    return {
        "stops": f.stops,
        "stop_s": round(f.stop_s, 1),
        "straightness": round(f.straightness, 2),
        "speed": round(f.speed, 2),
        "entered": f.entered,
    }


def impression_rows(update: AudienceUpdate) -> list[dict[str, Any]]:
    """Impressions as eval reports them. Unlike the MQTT event, this offline report shows each
    impression's mood (when mood is on), so its accuracy can be checked."""
    return [
        {
            "frame": i.frame_index,
            "display": i.display_id,
            "track": i.track_id,
            "duration_s": round(i.duration_s, 1),
            "looked": i.looked,
            "attention_s": round(i.attention_s, 1),
            "mood": i.mood,
        }
        for i in update.impressions
    ]
