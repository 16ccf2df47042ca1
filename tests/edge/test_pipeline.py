"""The pipeline's detection rate on real frames: which frames the detector looks at."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2

from edge_node.capture import FileReplay
from edge_node.config import parse_config
from edge_node.pipeline import Pipeline


def looks(clip: Path, rate_hz: float | None, **motion: object) -> list[int]:
    """The frame indices the detector ran on, replaying `clip` (10 fps) at `rate_hz`."""
    config = parse_config(
        {
            "node_id": "rate",
            "camera": {"source": str(clip)},
            "detection": {"rate_hz": rate_hz, "threads": 1},
            "motion": motion or {"enabled": False},
        }
    )
    pipeline = Pipeline(config)
    return [frame.index for frame in FileReplay(clip) if pipeline.process(frame).detected]


def test_a_rate_dividing_the_frame_rate_looks_at_evenly_spaced_frames(short_clip: Path) -> None:
    assert looks(short_clip, None) == list(range(30))
    assert looks(short_clip, 5) == list(range(0, 30, 2))
    assert looks(short_clip, 2.5) == list(range(0, 30, 4))


def test_a_rate_not_dividing_the_frame_rate_holds_on_average(short_clip: Path) -> None:
    # 7 Hz on a 10 fps camera: 7 frames of every 10, never two skipped in a row — not every
    # second frame (5 Hz), as waiting a full interval after each look would give.
    seen = looks(short_clip, 7)
    assert seen[:7] == [0, 2, 3, 5, 6, 8, 9]
    assert len(seen) == 21
    assert all(1 <= b - a <= 2 for a, b in itertools.pairwise(seen))
    assert len(looks(short_clip, 4)) == 12  # 4 Hz: 12 looks in 3 s, not 10 (every third frame)


def test_after_a_pause_the_rate_starts_again_without_catching_up(
    quiet_video: Path, short_clip: Path, tmp_path: Path
) -> None:
    # Six quiet seconds with the motion gate on (the detector looks once a second), then people
    # walk in: the 7 Hz schedule starts afresh from the first moving frame instead of making up
    # for the looks the gate skipped with a burst on consecutive frames.
    clip = tmp_path / "quiet_then_people.avi"
    writer = None
    for source in (quiet_video, short_clip):
        for frame in FileReplay(source):
            if writer is None:
                rows, columns = frame.image.shape[:2]
                writer = cv2.VideoWriter(
                    str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10, (columns, rows)
                )
            writer.write(frame.image)
    assert writer is not None
    writer.release()
    seen = looks(clip, 7, enabled=True, keepalive_s=1.0)
    assert seen[:6] == list(range(0, 60, 10))
    assert seen[6:13] == [60, 62, 63, 65, 66, 68, 69]
