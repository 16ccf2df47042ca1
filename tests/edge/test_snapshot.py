"""Snapshots on real images with people: every person pixelated before anything leaves."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_node.capture import FileReplay
from edge_node.config import parse_config
from edge_node.detect import Detector
from edge_node.snapshot import PRIVACY_MIN_SCORE, make_snapshot, pixelate

ASSETS = Path(__file__).resolve().parents[2] / ".assets"
CONFIG = parse_config(
    {
        "node_id": "cam1",
        "camera": {"source": "x.avi"},
        "zones": [{"id": "path", "name": "Path", "polygon": [[0, 0.3], [1, 0.3], [1, 0.7]]}],
        "lines": [{"id": "door", "name": "Door", "start": [0.42, 0], "end": [0.42, 1]}],
        "displays": [{"id": "shop", "name": "Shop", "polygon": [[0.7, 0], [1, 0], [1, 0.2]]}],
    }
)

BARE = parse_config({"node_id": "cam1", "camera": {"source": "x.avi"}})


def _images(vtest_video: Path) -> list[np.ndarray]:
    frames = [f.image for f in FileReplay(vtest_video) if f.index in (0, 300, 700)]
    return frames + [cv2.imread(str(ASSETS / name)) for name in ("messi5.jpg", "basketball1.png")]


def test_no_person_survives_in_the_snapshot(vtest_video: Path) -> None:
    detector = Detector("bundled", min_score=PRIVACY_MIN_SCORE)
    checker = Detector("bundled", min_score=0.3)
    for image in _images(vtest_video):
        people = [d.box for d in detector.detect(image)]
        assert people, "each test image shows people"
        snapshot = make_snapshot(image, people, CONFIG)
        decoded = cv2.imdecode(np.frombuffer(snapshot.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == image.shape
        assert snapshot.people_pixelated == len(people)
        assert checker.detect(decoded) == []


def _fine_detail(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (7, 7), 0)


def test_people_the_detector_misses_are_hidden_too(vtest_video: Path) -> None:
    """Checked without the model: every region where a frame differs from the empty walkway
    (the per-pixel median of the video, i.e. where people are) must come out altered."""
    from edge_node.snapshot import PrivacyMask
    from storefront_dev.footage import empty_scene

    empty = cv2.cvtColor(empty_scene(vtest_video), cv2.COLOR_BGR2GRAY).astype(np.int16)
    detector = Detector("bundled", min_score=PRIVACY_MIN_SCORE)
    mask = PrivacyMask()
    checked = 0
    for frame in FileReplay(vtest_video):
        mask.learn(frame.image)
        if frame.index not in (300, 500, 700):
            continue
        people = [d.box for d in detector.detect(frame.image)] + mask.regions(frame.image)
        snapshot = make_snapshot(frame.image, people, BARE)  # no drawing over people
        sent = cv2.imdecode(np.frombuffer(snapshot.jpeg, np.uint8), cv2.IMREAD_COLOR)
        grey = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY).astype(np.int16)
        foreground = (np.abs(grey - empty) > 40).astype(np.uint8)
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        # Fine detail is what identifies: in every 16x16 cell with a good share of person
        # pixels, the sent image's fine structure must not follow the original's (JPEG keeps
        # it, similarity > 0.9; pixelation destroys it, leaving at most a block edge that happens
        # to lie along a real edge, similarity ~0.6).
        detail_before = _fine_detail(frame.image)
        detail_after = _fine_detail(sent)
        for y in range(0, foreground.shape[0] - 15, 16):
            for x in range(0, foreground.shape[1] - 15, 16):
                cell = foreground[y : y + 16, x : x + 16].astype(bool)
                if cell.sum() < 64:
                    continue
                before = detail_before[y : y + 16, x : x + 16][cell]
                after = detail_after[y : y + 16, x : x + 16][cell]
                if float(np.sqrt((before**2).mean())) < 3:
                    continue  # nothing to recognise in this cell anyway
                similarity = float((before * after).sum()) / float(
                    np.sqrt((before**2).sum() * (after**2).sum()) + 1e-9
                )
                assert similarity < 0.75, (frame.index, x, y, similarity)
                checked += 1
        if frame.index == 700:
            break
    assert checked >= 30


def test_pixelated_area_has_no_detail_left(vtest_video: Path) -> None:
    image = next(iter(FileReplay(vtest_video))).image
    box = (0.3, 0.2, 0.5, 0.6)
    hidden, count = pixelate(image, [box])
    assert count == 1
    h, w = image.shape[:2]
    inner = hidden[int(0.25 * h) : int(0.55 * h), int(0.33 * w) : int(0.47 * w)]
    # Within a 12-pixel block every pixel is the same colour.
    block = inner[:12, :12]
    assert len(np.unique(block.reshape(-1, 3), axis=0)) <= 4
    assert np.array_equal(hidden[:10, :10], image[:10, :10])  # outside untouched


def test_snapshot_payload_follows_the_contract(vtest_video: Path) -> None:
    from tests.node_contract import contract

    image = next(iter(FileReplay(vtest_video))).image
    payload = make_snapshot(image, [], CONFIG).to_contract("req-1", 1_795_380_000.0)
    assert contract.validate("snapshot", payload) == payload


@pytest.mark.parametrize("box", [(0.0, 0.0, 0.0, 0.0), (0.99, 0.99, 1.0, 1.0)])
def test_degenerate_boxes_are_harmless(vtest_video: Path, box: tuple[float, ...]) -> None:
    image = next(iter(FileReplay(vtest_video))).image
    hidden, _ = pixelate(image, [box])  # type: ignore[list-item]
    assert hidden.shape == image.shape
