"""Capture from real video: every frame in order, clear errors, and a camera that disappears."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from edge_node.capture import CameraStatus, CaptureError, FileReplay, LiveCapture


def _wait_status(capture: LiveCapture, status: CameraStatus, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while capture.status is not status:
        assert time.monotonic() < deadline, f"camera status stayed {capture.status}, not {status}"
        time.sleep(0.02)


def test_file_replay_yields_every_frame_in_order(short_clip: Path) -> None:
    frames = list(FileReplay(short_clip))
    assert [f.index for f in frames] == list(range(30))
    assert frames[0].image.shape == (576, 768, 3)
    assert frames[10].timestamp == pytest.approx(1.0)  # 10 fps


def test_missing_video_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"video file .*absent.avi does not exist"):
        FileReplay(tmp_path / "absent.avi")


def test_corrupt_video_is_a_clear_error(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.avi"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" * 100)
    with pytest.raises(CaptureError, match=r"corrupt\.avi"):
        FileReplay(corrupt)


def test_live_capture_keeps_only_the_newest_frame(short_clip: Path) -> None:
    capture = LiveCapture(str(short_clip), realtime=False).start()
    try:
        _wait_status(capture, CameraStatus.ENDED)
        frame = capture.read(timeout=0.1)
    finally:
        capture.stop()
    # Nobody read while 30 frames arrived: the stale ones were dropped, the last one is kept.
    assert frame is not None
    assert frame.index == 29
    assert capture.dropped_frames == 29


def test_camera_that_disappears_is_reported_and_comes_back(
    short_clip: Path, tmp_path: Path
) -> None:
    camera = tmp_path / "camera.avi"
    shutil.copy(short_clip, camera)
    capture = LiveCapture(str(camera), loop=True, realtime=True, reconnect_max_s=0.2).start()
    try:
        _wait_status(capture, CameraStatus.OK)
        camera.unlink()  # the camera goes away: the next reopen fails
        _wait_status(capture, CameraStatus.RECONNECTING)
        assert capture.last_error is not None
        assert "does not exist" in capture.last_error
        shutil.copy(short_clip, camera)  # and comes back
        _wait_status(capture, CameraStatus.OK)
        assert capture.read(timeout=2.0) is not None
    finally:
        capture.stop()


def test_camera_reported_lost_after_the_limit(tmp_path: Path) -> None:
    capture = LiveCapture(str(tmp_path / "never.avi"), reconnect_max_s=0.05, lost_after_s=0.2)
    capture.start()
    try:
        _wait_status(capture, CameraStatus.LOST, within_s=5)
    finally:
        capture.stop()
    assert "does not exist" in (capture.last_error or "")
