"""The face reader on real photographs: BlazeFace decoding, the frontal rule, the mood model.

Regression bounds sit a little below what docs/accuracy.md reports (tools/face_accuracy.py), so
a broken anchor decode or preprocessing fails here.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from edge_node.faces import VARIANTS, ExpressionReader, FaceDetector, blazeface_anchors


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_anchors_match_the_models_outputs(variant: str) -> None:
    detector = FaceDetector(variant)
    outputs = detector._interpreter.get_output_details()
    assert {int(d["shape"][1]) for d in outputs} == {len(detector.anchors)}
    v = VARIANTS[variant]
    anchors = blazeface_anchors(v.size, v.strides, v.per_layer)
    assert anchors.min() > 0
    assert anchors.max() < 1


def _lfw(pad: int) -> list[np.ndarray]:
    images = []
    for image in data.lfw_subset():
        bgr = cv2.cvtColor((image * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
        images.append(cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT))
    return images


def test_short_range_tells_lfw_faces_from_non_faces() -> None:
    detector = FaceDetector("short_range", threshold=0.75)
    found = np.array([detector.find(image) is not None for image in _lfw(12)])
    # lfw_subset: the first 100 are faces, the other 100 are not.
    assert found[:100].mean() >= 0.9
    assert found[100:].mean() <= 0.02


def test_the_astronaut_is_a_frontal_smiling_face_in_the_right_place() -> None:
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    face = FaceDetector("short_range").find(image)
    assert face is not None
    x1, y1, x2, y2 = face.box
    # Her face is at about x 0.36-0.52, y 0.14-0.34 of the 512x512 photograph.
    assert 0.3 < x1 < 0.4
    assert 0.45 < x2 < 0.6
    assert 0.1 < y1 < 0.2
    assert 0.28 < y2 < 0.4
    assert face.frontal(0.5)
    moods = ExpressionReader().read(image, face)
    assert moods.shape == (3,)
    assert abs(float(moods.sum()) - 1.0) < 1e-3
    assert int(np.argmax(moods)) == 0  # positive


def test_a_face_seen_from_behind_is_not_found() -> None:
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    detector = FaceDetector("short_range")
    assert detector.find(image[400:, :]) is None  # her suit and the flag: no face
    assert detector.find(np.zeros((2, 2, 3), np.uint8)) is None  # too small to look at
