"""`storefront-edge bench`: how fast the whole pipeline runs over a video, stage by stage."""

from __future__ import annotations

import queue
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from .capture import open_reader, video_fps
from .config import NodeConfig
from .detect import Detector
from .macs import count_macs
from .pipeline import Pipeline
from .profiles import BUNDLED_MODELS, DEFAULT_MODEL
from .system import peak_rss_mb
from .types import Frame


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 3) if values else 0.0


_END = None


def _decode_ahead(video: str | Path, frames: queue.Queue[tuple[Any, float] | None]) -> None:
    """Decode in a thread of its own, as the node's capture does, timing every frame."""
    reader = open_reader(str(video))
    try:
        while True:
            start = time.perf_counter()
            ok, image = reader.read()
            decode = time.perf_counter() - start
            if not ok or image is None:
                break
            frames.put((image, decode))
    finally:
        reader.release()
        frames.put(_END)


def run_bench(video: str | Path, config: NodeConfig) -> dict[str, Any]:
    pipeline = Pipeline(config)
    probe = open_reader(str(video))
    fps_in = video_fps(probe)
    probe.release()
    stages: dict[str, list[float]] = {
        k: [] for k in ("decode", "motion", "detect", "track", "analytics", "audience")
    }
    invoke: list[float] = []
    detected = 0
    frames = 0
    # Every frame is processed (nothing dropped): a small queue makes the decoder wait.
    decoded: queue.Queue[tuple[Any, float] | None] = queue.Queue(maxsize=4)
    decoder = threading.Thread(target=_decode_ahead, args=(video, decoded), daemon=True)
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    decoder.start()
    try:
        while (item := decoded.get()) is not _END:
            image, decode = item
            result = pipeline.process(Frame(index=frames, timestamp=frames / fps_in, image=image))
            frames += 1
            times = result.times
            stages["decode"].append(decode)
            stages["motion"].append(times.motion)
            stages["track"].append(times.track)
            stages["analytics"].append(times.analytics)
            stages["audience"].append(times.audience)
            if result.detected:
                detected += 1
                stages["detect"].append(times.detect)
                invoke.append(result.invoke_s)
    finally:
        decoder.join(timeout=5)
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    decode_ms = _median_ms(stages["decode"])
    invoke_ms = _median_ms(invoke)
    return {
        "video": Path(video).name,
        "frames": frames,
        "wall_s": round(wall, 3),
        "fps": round(frames / wall, 2) if wall else 0.0,
        "stages_ms": {name: _median_ms(values) for name, values in stages.items()},
        "invoke_ms": invoke_ms,
        "detect_share": round(sum(invoke) / wall, 4) if wall else 0.0,
        "detected_frames": detected,
        "motion_gating": config.motion.enabled,
        "cpu_ms_per_frame": round(cpu / frames * 1000, 3) if frames else 0.0,
        "limit_fps": round(1000 / (decode_ms + invoke_ms), 2) if decode_ms + invoke_ms else 0.0,
        "peak_rss_mb": peak_rss_mb(),
        "threads": config.detection.threads,
        "model": pipeline.detector.info.name,
        "gmacs_per_frame": round(count_macs(pipeline.detector.info.path).gmacs, 3),
        **_audience_figures(pipeline, stages["audience"], frames),
    }


def _audience_figures(pipeline: Pipeline, audience_s: list[float], frames: int) -> dict[str, Any]:
    """What the display audience costs: with attention on, that is the face reader's share."""
    features = pipeline.config.features
    looker = pipeline.audience.looker
    looks = getattr(looker, "looks", 0)
    mean_ms = round(statistics.fmean(audience_s) * 1000, 3) if audience_s else 0.0
    return {
        "displays": len(pipeline.config.displays),
        "attention": features.attention,
        "mood": features.mood,
        "audience_mean_ms": mean_ms,
        "face_looks": looks,
        "face_looks_per_frame": round(looks / frames, 3) if frames else 0.0,
    }


def bench_models(video: str | Path, threads: int, frames: int = 60) -> list[dict[str, Any]]:
    """Every bundled model's MACs per frame and median invoke time on the same frames.

    Models take turns frame by frame, so a busy machine slows them alike and the ratios hold.
    """
    names = [n for n in BUNDLED_MODELS if n != DEFAULT_MODEL]
    detectors = {name: Detector(name, threads=threads) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    reader = open_reader(str(video))
    try:
        for _ in range(frames):
            ok, image = reader.read()
            if not ok or image is None:
                break
            for name, detector in detectors.items():
                detector.detect(image)
                times[name].append(detector.last_invoke_s)
    finally:
        reader.release()
    rows = []
    for name, detector in detectors.items():
        macs = count_macs(detector.info.path)
        rows.append(
            {
                "model": name,
                "file": detector.info.path.name,
                "default": BUNDLED_MODELS[name] == BUNDLED_MODELS[DEFAULT_MODEL],
                "input": "x".join(str(v) for v in detector.info.input_size),
                "gmacs_per_frame": round(macs.gmacs, 3),
                "invoke_ms": _median_ms(times[name]),
            }
        )
    return rows
