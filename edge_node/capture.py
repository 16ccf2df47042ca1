"""Capture: frames from a video file, a network stream, a V4L2 device or the Pi camera.

Two ways to read:
- `FileReplay` decodes a file frame by frame, as fast as the consumer asks (eval, bench).
- `LiveCapture` reads in its own thread and keeps only the newest frame, so a slow consumer
  gets fresh frames instead of a growing lag. When the camera disappears it reconnects with
  exponential backoff and jitter, and says so in `status`.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from .types import Frame

LOG = logging.getLogger(__name__)


class CaptureError(RuntimeError):
    """The source cannot be opened at all (wrong path, not a video, no such device)."""


class CameraStatus(enum.StrEnum):
    OK = "ok"
    RECONNECTING = "reconnecting"
    LOST = "lost"
    ENDED = "ended"


class Reader(Protocol):
    """The part of cv2.VideoCapture that capture uses (the Pi camera adapts to it)."""

    def read(self) -> tuple[bool, Any]: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...
    def isOpened(self) -> bool: ...


def is_file_source(source: str | int) -> bool:
    return (
        isinstance(source, str)
        and "://" not in source
        and not source.startswith("/dev/")
        and source != "picamera2"
    )


def open_reader(source: str | int, width: int | None = None, height: int | None = None) -> Reader:
    """Open any supported source; raise CaptureError with the reason when it cannot be."""
    if source == "picamera2":
        return _PiCameraReader(width or 1280, height or 720)
    if is_file_source(source) and not Path(str(source)).is_file():
        raise CaptureError(f"video file {source} does not exist")
    target: str | int = int(source) if isinstance(source, str) and source.isdigit() else source
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        kind = "video file" if is_file_source(source) else "camera"
        raise CaptureError(f"cannot open {kind} {source}: OpenCV could not decode or reach it")
    if width and height:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    return capture


class _PiCameraReader:
    """The Raspberry Pi camera through picamera2, shaped like cv2.VideoCapture."""

    def __init__(self, width: int, height: int) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError:
            raise CaptureError(
                "source 'picamera2' needs the picamera2 package (apt install python3-picamera2 "
                "and create the venv with --system-site-packages)"
            ) from None
        self._camera = Picamera2()
        config = self._camera.create_video_configuration(
            main={"size": (width, height), "format": "BGR888"}
        )
        self._camera.configure(config)
        self._camera.start()

    def read(self) -> tuple[bool, Any]:
        return True, self._camera.capture_array()

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        self._camera.stop()

    def isOpened(self) -> bool:
        return True


def video_fps(reader: Reader, default: float = 10.0) -> float:
    fps = reader.get(cv2.CAP_PROP_FPS)
    return fps if 0 < fps < 1000 else default


class FileReplay:
    """Every frame of a video file in decode order; timestamps from the file's frame rate."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._reader = open_reader(self.path)
        self.fps = video_fps(self._reader)
        ok, first = self._reader.read()
        if not ok or first is None:
            self._reader.release()
            raise CaptureError(f"video file {path} has no frame OpenCV can decode")
        self._first: npt.NDArray[np.uint8] | None = first

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        try:
            while True:
                if self._first is not None:
                    image, self._first = self._first, None
                else:
                    ok, image = self._reader.read()
                    if not ok or image is None:
                        return
                yield Frame(index=index, timestamp=index / self.fps, image=image)
                index += 1
        finally:
            self._reader.release()


class LiveCapture:
    """Reads a source in a background thread, keeping only the newest frame."""

    def __init__(
        self,
        source: str | int,
        *,
        loop: bool = False,
        realtime: bool = True,
        reconnect_max_s: float = 30.0,
        lost_after_s: float = 120.0,
        width: int | None = None,
        height: int | None = None,
        opener: Callable[[], Reader] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.loop = loop
        self.realtime = realtime
        self.reconnect_max_s = reconnect_max_s
        self.lost_after_s = lost_after_s
        self._open = opener or (lambda: open_reader(source, width, height))
        self._clock = clock
        self._lock = threading.Condition()
        self._latest: Frame | None = None
        self._index = 0
        self._status = CameraStatus.RECONNECTING
        self._last_frame_at = clock()
        self.reconnects = 0
        self.dropped_frames = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    @property
    def status(self) -> CameraStatus:
        with self._lock:
            return self._status

    def start(self) -> LiveCapture:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        self._thread.join(timeout=5)

    def read(self, timeout: float = 1.0) -> Frame | None:
        """The newest frame not yet returned; None when none arrived within `timeout`."""
        with self._lock:
            if self._latest is None:
                self._lock.wait(timeout)
            frame, self._latest = self._latest, None
            return frame

    def _set_status(self, status: CameraStatus, error: str | None = None) -> None:
        with self._lock:
            if status is not self._status:
                level = logging.INFO if status is CameraStatus.OK else logging.WARNING
                LOG.log(
                    level,
                    "camera %s: %s%s",
                    self.source,
                    status.value,
                    f" ({error})" if error else "",
                )
            self._status = status
            if error:
                self.last_error = error
            self._lock.notify_all()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                reader = self._open()
            except CaptureError as err:
                self._wait_after_failure(str(err), backoff)
                backoff = min(backoff * 2, self.reconnect_max_s)
                continue
            backoff = 0.5
            ended = self._pump(reader)
            reader.release()
            if ended and not self.loop:
                self._set_status(CameraStatus.ENDED)
                return
            if not ended:
                self.reconnects += 1
                self._wait_after_failure("stream stopped delivering frames", backoff)
                backoff = min(backoff * 2, self.reconnect_max_s)

    def _wait_after_failure(self, error: str, backoff: float) -> None:
        lost = self._clock() - self._last_frame_at >= self.lost_after_s
        self._set_status(CameraStatus.LOST if lost else CameraStatus.RECONNECTING, error)
        # Jitter keeps many nodes from hammering a recovering NVR or switch in lockstep.
        self._stop.wait(backoff * random.uniform(0.5, 1.0))

    def _pump(self, reader: Reader) -> bool:
        """Read until the source fails (False) or a file ends (True)."""
        period = 1.0 / video_fps(reader) if self.realtime else 0.0
        file_source = is_file_source(self.source)
        next_due = self._clock()
        while not self._stop.is_set():
            ok, image = reader.read()
            if not ok or image is None:
                return file_source  # a file ends; a camera or stream has failed
            now = self._clock()
            self._last_frame_at = now
            self._publish(image, now)
            if period:
                next_due += period
                self._stop.wait(max(0.0, next_due - self._clock()))
        return True

    def _publish(self, image: npt.NDArray[np.uint8], now: float) -> None:
        with self._lock:
            if self._latest is not None:
                self.dropped_frames += 1  # the consumer was slower than the camera
            self._latest = Frame(index=self._index, timestamp=now, image=image)
            self._index += 1
            if self._status is not CameraStatus.OK:
                self._status = CameraStatus.OK
                LOG.info("camera %s: ok", self.source)
            self._lock.notify_all()
