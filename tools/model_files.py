"""What the model scripts in tools/ share: hashes checked against a wheel's RECORD, SHA256SUMS,
the detection post-processing node's settings and the sample photos they calibrate on."""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path
from typing import Any

SUMS = "SHA256SUMS"


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def unmatched_in_record(record: str, members: dict[str, bytes]) -> list[str]:
    """Names of `members` whose bytes do not match their hash in the wheel's RECORD text."""
    expected = {}
    for line in record.splitlines():
        parts = line.split(",")
        if len(parts) == 3 and parts[1].startswith("sha256="):
            expected[parts[0]] = parts[1].removeprefix("sha256=")
    return [
        name
        for name, data in members.items()
        if expected.get(name)
        != base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    ]


def write_sums(out_dir: Path) -> None:
    """SHA256SUMS over every file of the folder but itself and the hand-written README."""
    lines = [
        f"{sha256_file(p)}  {p.name}\n"
        for p in sorted(out_dir.iterdir())
        if p.is_file() and p.name not in (SUMS, "README.md")
    ]
    (out_dir / SUMS).write_text("".join(lines))


def set_postprocess_attrs(post: Any, ints: dict[str, int], floats: dict[str, float]) -> None:
    """A TFLite_Detection_PostProcess node's settings, fast NMS and its four float outputs."""
    from tensorflow.core.framework import attr_value_pb2, types_pb2  # only the converters have TF

    for key, value in ints.items():
        post.attr[key].i = value
    for key, value in floats.items():
        post.attr[key].f = value
    post.attr["use_regular_nms"].b = False
    post.attr["_output_quantized"].b = True
    post.attr["_support_output_type_float_in_quantized_op"].b = True
    post.attr["_output_types"].CopyFrom(
        attr_value_pb2.AttrValue(
            list=attr_value_pb2.AttrValue.ListValue(type=[types_pb2.DT_FLOAT] * 4)
        )
    )


def sample_images(assets: Path) -> list[Any]:
    """OpenCV's two sample photos in `assets`, calibration images besides the footage's frames."""
    import cv2  # only the converters' venvs have OpenCV

    images = []
    for name in ("basketball1.png", "messi5.jpg"):
        image = cv2.imread(str(assets / name))
        if image is None:
            sys.exit(f"cannot read {assets / name}")
        images.append(image)
    return images
