#!/usr/bin/env python3
"""Measure the node's face detector, attention rule and mood on real images shipped in packages.

* scikit-image's `lfw_subset`: 100 faces and 100 non-faces (25x25 grey). The face threshold is
  chosen on one half (even indices of each class: the highest TPR with FPR <= 0.02) and scored
  on the other half (odd indices), so the threshold is never tuned on what is scored.
* scikit-image's `astronaut`, opencv-doc's `messi5.jpg` and `basketball1.png` (`.assets/`):
  the person detector (SSDLite, score >= 0.4) finds the people, and the node's own face reader
  looks at each person's head region exactly as it does in a display zone: face found, frontal
  or not, mood.

Prints one JSON document. From the repository root:

    .venv/bin/python tools/face_accuracy.py [--variant short_range|full_range]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage import data

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from edge_node.config import AudienceConfig  # noqa: E402
from edge_node.detect import Detector  # noqa: E402
from edge_node.faces import MOODS, FaceDetector, build_face_reader  # noqa: E402

MAX_CALIBRATION_FPR = 0.02


def lfw_scores(detector: FaceDetector, pad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best face score and yaw per lfw_subset image, and whether it is a face.

    `pad` black pixels around each 25x25 crop: the node searches a head region, which is larger
    than the face, while lfw_subset's crops are cut tight (both classes are padded alike).
    """
    images = data.lfw_subset()
    scores, yaws = [], []
    for image in images:
        bgr = cv2.cvtColor((image * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
        bgr = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT)
        face = detector.find(bgr)
        scores.append(face.score if face else 0.0)
        yaws.append(face.yaw if face else np.nan)
    is_face = np.arange(len(images)) < 100  # the subset's documented order: faces first
    return np.asarray(scores), np.asarray(yaws), is_face


def rates(scores: np.ndarray, is_face: np.ndarray, threshold: float) -> dict[str, float]:
    hit = scores >= threshold
    return {
        "tpr": round(float(hit[is_face].mean()), 3),
        "fpr": round(float(hit[~is_face].mean()), 3),
        "faces": int(is_face.sum()),
        "non_faces": int((~is_face).sum()),
    }


def choose_threshold(scores: np.ndarray, is_face: np.ndarray) -> float:
    """The lowest candidate threshold whose FPR on these images stays within the bound."""
    for threshold in np.round(np.arange(0.30, 1.0, 0.01), 2):
        if rates(scores, is_face, float(threshold))["fpr"] <= MAX_CALIBRATION_FPR:
            return float(threshold)
    return 1.0


def lfw_report(detector: FaceDetector, max_yaw: float, default: float, pad: int) -> dict[str, Any]:
    scores, yaws, is_face = lfw_scores(detector, pad)
    calibration = np.arange(len(scores)) % 2 == 0
    threshold = choose_threshold(scores[calibration], is_face[calibration])
    held_out = ~calibration
    found = is_face & (scores >= default)
    report: dict[str, Any] = {
        "padding_px": pad,
        "threshold_chosen_on_calibration_half": threshold,
        "evaluation_half_at_chosen": rates(scores[held_out], is_face[held_out], threshold),
        "evaluation_half_at_default": rates(scores[held_out], is_face[held_out], default),
        "all_at_default": rates(scores, is_face, default),
    }
    if found.any():
        report["faces_found_judged_frontal"] = round(float((yaws[found] <= max_yaw).mean()), 3)
        report["yaw_of_faces_found"] = {
            "p50": round(float(np.median(yaws[found])), 3),
            "p90": round(float(np.percentile(yaws[found], 90)), 3),
        }
    return report


def lfw_moods(detector: FaceDetector, settings: AudienceConfig) -> dict[str, int]:
    """Moods read on the lfw faces found (no expression labels exist for them: a spread only)."""
    from edge_node.faces import ExpressionReader

    reader = ExpressionReader(threads=2)
    counts = dict.fromkeys(MOODS, 0)
    for image in data.lfw_subset()[:100]:
        bgr = cv2.cvtColor((image * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
        bgr = cv2.copyMakeBorder(bgr, 12, 12, 12, 12, cv2.BORDER_CONSTANT)
        face = detector.find(bgr)
        if face is not None and face.score >= settings.face_threshold:
            counts[MOODS[int(np.argmax(reader.read(bgr, face)))]] += 1
    return counts


def scene_report(name: str, image: np.ndarray, settings: AudienceConfig) -> dict[str, Any]:
    # SSDLite's boxes, so the face figures do not move with the default person model.
    people = [d for d in Detector("ssdlite").detect(image) if d.score >= 0.4]
    reader = build_face_reader(settings, mood=True, threads=2)
    looks = []
    for person in people:
        height, width = image.shape[:2]
        x1, y1, x2, y2 = person.box
        top, bottom = int(y1 * height), int((y1 + (y2 - y1) * settings.head_share) * height)
        head = image[top : max(bottom, top + 1), int(x1 * width) : int(x2 * width) + 1]
        face = reader.detector.find(head)
        look = reader.look(image, person.box)
        looks.append(
            {
                "person_box": [round(v, 3) for v in person.box],
                "head_px": [int(head.shape[1]), int(head.shape[0])],
                "face_score": round(face.score, 3) if face else None,
                "yaw": round(face.yaw, 3) if face else None,
                "frontal": look.frontal,
                "mood": MOODS[int(np.argmax(look.moods))] if look.moods is not None else None,
                "mood_p": [round(float(p), 3) for p in look.moods]
                if look.moods is not None
                else None,
            }
        )
    return {"image": name, "people": len(people), "looks": looks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", default="short_range", choices=("short_range", "full_range"))
    parser.add_argument("--assets", type=Path, default=REPO / ".assets")
    args = parser.parse_args()
    settings = AudienceConfig(face_model=args.variant)
    detector = FaceDetector(args.variant, threads=2, threshold=0.0)
    scenes = [("astronaut", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))]
    for name in ("messi5.jpg", "basketball1.png"):
        image = cv2.imread(str(args.assets / name))
        if image is None:
            sys.exit(f"cannot read {args.assets / name} (scripts/fetch_assets.sh fetches it)")
        scenes.append((name, image))
    report = {
        "variant": args.variant,
        "max_yaw": settings.max_yaw,
        "lfw_subset": [
            lfw_report(detector, settings.max_yaw, settings.face_threshold, pad)
            for pad in (0, 12)  # tight crops, and each face in a region twice its size
        ],
        "lfw_faces_mood": lfw_moods(detector, settings),
        "scenes": [scene_report(name, image, settings) for name, image in scenes],
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
