"""Footage made from the real video for cases it does not show.

`quiet_clip` is an empty shop at a quiet moment: the walkway of vtest.avi with nobody on it (the
per-pixel median over frames spread through the video removes the passers-by), plus a little
sensor noise so consecutive frames are not identical, as with a real camera.
Run as `python -m storefront_dev.footage quiet OUT.avi` to write it for benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

NOISE_SIGMA = 2.0  # grey levels; a typical CMOS sensor in indoor light


def empty_scene(video: Path, samples: int = 40) -> npt.NDArray[np.uint8]:
    reader = cv2.VideoCapture(str(video))
    total = int(reader.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = set(np.linspace(0, total - 1, samples).astype(int).tolist())
    frames = []
    for index in range(total):
        ok, frame = reader.read()
        if not ok:
            break
        if index in wanted:
            frames.append(frame)
    reader.release()
    background: npt.NDArray[np.uint8] = np.median(np.stack(frames), axis=0).astype(np.uint8)
    return background


def quiet_clip(video: Path, target: Path, frames: int = 300, seed: int = 7) -> Path:
    background = empty_scene(video).astype(np.float32)
    rng = np.random.default_rng(seed)
    height, width = background.shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (width, height))
    for _ in range(frames):
        noisy = background + rng.normal(0.0, NOISE_SIGMA, background.shape)
        writer.write(np.clip(noisy, 0, 255).astype(np.uint8))
    writer.release()
    return target


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "quiet":
        sys.exit("usage: python -m storefront_dev.footage quiet VIDEO OUT.avi")
    quiet_clip(Path(sys.argv[2]), Path(sys.argv[3]))
