"""The detector on real frames, the bundled model's integrity, and unusable models."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import pytest

from edge_node.capture import FileReplay
from edge_node.detect import BUNDLED_MODEL_PATH, MODELS_DIR, Detector, ModelError, read_labels

INT8_MODEL = MODELS_DIR / "ssdlite_mobilenet_v2_person_int8.tflite"


def test_bundled_models_match_their_sha256sums() -> None:
    for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((MODELS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_bundled_model_finds_the_people_on_a_real_frame(short_clip: Path) -> None:
    detector = Detector("bundled", threads=2, min_score=0.4)
    frame = next(iter(FileReplay(short_clip)))
    people = detector.detect(frame.image)
    # Frame 0 of vtest.avi shows two walkers on the path and one far away on the back road.
    assert 2 <= len(people) <= 3
    for person in people:
        x1, y1, x2, y2 = person.box
        assert 0 <= x1 < x2 <= 1
        assert 0 <= y1 < y2 <= 1
        assert y2 - y1 > x2 - x1, "a standing person is taller than wide"
    assert people == sorted(people, key=lambda p: p.score, reverse=True)
    assert detector.last_invoke_s > 0
    assert detector.info.input_size == (512, 384)  # NanoDet-g, the default
    assert detector.info.sha256 == hashlib.sha256(BUNDLED_MODEL_PATH.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "size", "dtype"),
    [("ssdlite", (300, 300), "float32"), ("ssdlite-int8", (300, 300), "uint8")],
)
def test_the_fast_bundled_models_by_name(
    short_clip: Path, name: str, size: tuple[int, int], dtype: str
) -> None:
    detector = Detector(name, min_score=0.4)
    assert (detector.info.input_size, detector.info.input_dtype) == (size, dtype)
    frame = next(iter(FileReplay(short_clip)))
    assert len(detector.detect(frame.image)) >= 2


def test_nobody_on_an_empty_scene(quiet_video: Path) -> None:
    detector = Detector("bundled", min_score=0.5)
    frame = next(iter(FileReplay(quiet_video)))
    assert detector.detect(frame.image) == []


def test_a_users_own_ssd_model_with_label_map(short_clip: Path, tmp_path: Path) -> None:
    # The int8 variant stands in for a user's model: standard outputs, uint8 input, Coral-style
    # numbered label map with the person class not first.
    labels = tmp_path / "labels.txt"
    labels.write_text("0  person\n1  bicycle\n")
    detector = Detector(INT8_MODEL, labels=labels, min_score=0.4)
    assert detector.info.input_dtype == "uint8"
    frame = next(iter(FileReplay(short_clip)))
    assert len(detector.detect(frame.image)) >= 2
    # Asking for a label the model does not detect finds nothing.
    labels.write_text("0  cat\n1  person\n")
    other = Detector(INT8_MODEL, labels=labels, min_score=0.4)
    assert other.info.person_class == 1
    assert other.detect(frame.image) == []


def test_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model file .*nope\.tflite does not exist"):
        Detector(tmp_path / "nope.tflite")


def test_unreadable_model(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"\x00not a flatbuffer" * 64)
    with pytest.raises(ModelError, match=r"broken\.tflite is not a usable TFLite model"):
        Detector(broken)


def test_image_instead_of_model(tmp_path: Path, vtest_video: Path) -> None:
    fake = tmp_path / "photo.tflite"
    reader = cv2.VideoCapture(str(vtest_video))
    _, image = reader.read()
    reader.release()
    fake.write_bytes(cv2.imencode(".jpg", image)[1].tobytes())
    with pytest.raises(ModelError, match="not a usable TFLite model"):
        Detector(fake)


def test_label_map_problems(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"label map .*absent\.txt .* does not exist"):
        Detector(INT8_MODEL, labels=tmp_path / "absent.txt")
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\n")
    with pytest.raises(ModelError, match="has no label 'person'"):
        Detector(INT8_MODEL, labels=labels)


def test_label_map_formats(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("person\nbicycle\n\ncar\n")
    assert read_labels(plain) == {0: "person", 1: "bicycle", 3: "car"}
    numbered = tmp_path / "numbered.txt"
    numbered.write_text("0 person\n2 car\n")
    assert read_labels(numbered) == {0: "person", 2: "car"}
