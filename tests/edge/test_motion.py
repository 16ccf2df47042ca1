"""Motion gating on real footage: busy frames run the detector, a quiet scene mostly does not,
and the keep-alive still looks often enough that people standing still stay counted."""

from __future__ import annotations

from pathlib import Path

from edge_node.capture import FileReplay
from edge_node.motion import MotionGate


def test_walking_people_are_motion(short_clip: Path) -> None:
    gate = MotionGate(enabled=True, min_area=0.0005, keepalive_s=100.0)
    results = [gate.check(f.image, f.timestamp) for f in FileReplay(short_clip)]
    moved = sum(r.moved for r in results[1:])
    assert moved >= 27, f"only {moved}/29 frames with walking people were seen as motion"


def test_quiet_scene_skips_the_detector_but_keepalive_runs_it(quiet_video: Path) -> None:
    gate = MotionGate(enabled=True, min_area=0.0005, keepalive_s=1.0)
    frames = list(FileReplay(quiet_video))  # 60 frames at 10 fps = 6 s
    results = [gate.check(f.image, f.timestamp) for f in frames]
    assert not any(r.moved for r in results[1:]), "sensor noise alone was taken for motion"
    runs = [f.timestamp for f, r in zip(frames, results, strict=True) if r.run_detector]
    # First frame, then once a second: 0.0, 1.0, ..., 5.0
    assert runs == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_gating_off_always_runs(quiet_video: Path) -> None:
    gate = MotionGate(enabled=False, min_area=0.0005, keepalive_s=1.0)
    assert all(gate.check(f.image, f.timestamp).run_detector for f in FileReplay(quiet_video))


def test_someone_walking_into_a_quiet_scene_wakes_the_gate(
    quiet_video: Path, short_clip: Path
) -> None:
    gate = MotionGate(enabled=True, min_area=0.0005, keepalive_s=100.0)
    for frame in list(FileReplay(quiet_video))[:20]:
        gate.check(frame.image, frame.timestamp)
    person_frame = next(iter(FileReplay(short_clip)))
    result = gate.check(person_frame.image, 2.1)
    assert result.moved
    assert result.run_detector
