"""Faces for the opt-in display audience: is a person's face turned to the display, and how
does it look (for aggregate mood only).

BlazeFace (MediaPipe's face detector, `models/face_detection_*.tflite`) runs on the upper part
of one person's box; its best anchor gives a face box and six keypoints, and the nose's offset
from the eyes' midpoint tells a frontal face from a turned head. The expression model
(`models/emotion_model_quantized.tflite`) reads the face as seven expression scores, reduced
here to positive / neutral / negative. A crop exists only for one inference: nothing of a face
is kept, no embedding is computed, and nothing about identity, age, gender or ethnicity is read.

This module is imported only when `features.attention` is on; with it off no face model is
ever loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from .config import AudienceConfig
from .detect import MODELS_DIR, ModelError, _load_interpreter_class
from .types import Box

Image = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float32]
Mood = Literal["positive", "neutral", "negative"]
MOODS: tuple[Mood, ...] = ("positive", "neutral", "negative")
EMOTION_MODEL = MODELS_DIR / "emotion_model_quantized.tflite"
# The fer model's class order; each reduced to the mood it stands for. Surprise is neither
# pleasant nor unpleasant on its own, so it counts as neutral.
EXPRESSIONS: tuple[tuple[str, Mood], ...] = (
    ("angry", "negative"),
    ("disgust", "negative"),
    ("fear", "negative"),
    ("happy", "positive"),
    ("sad", "negative"),
    ("surprise", "neutral"),
    ("neutral", "neutral"),
)


@dataclass(frozen=True, slots=True)
class _Variant:
    file: str
    size: int
    strides: tuple[int, ...]  # one per SSD layer
    per_layer: int  # anchors per cell and layer


VARIANTS = {
    "short_range": _Variant("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2),
    "full_range": _Variant("face_detection_full_range.tflite", 192, (4,), 1),
}


def blazeface_anchors(size: int, strides: tuple[int, ...], per_layer: int) -> FloatArray:
    """Anchor centres (x, y) in [0, 1], in the order of the model's outputs.

    MediaPipe's SSD anchors for BlazeFace have a fixed size of 1, so only the centres matter.
    Consecutive layers with the same stride share one feature map; each layer adds
    `per_layer` anchors per cell of it.
    """
    centres: list[tuple[float, float]] = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = 1
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        cells = math.ceil(size / stride)
        for y in range(cells):
            for x in range(cells):
                centre = ((x + 0.5) / cells, (y + 0.5) / cells)
                centres.extend([centre] * (same * per_layer))
        layer += same
    return np.asarray(centres, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Face:
    """The best face in an image, in that image's normalized coordinates."""

    score: float
    box: Box
    yaw: float  # |nose x - eyes' midpoint x| / eye distance: 0 looking straight on

    def frontal(self, max_yaw: float) -> bool:
        return self.yaw <= max_yaw


def _interpreter(path: Path, threads: int) -> Any:
    if not path.is_file():
        raise ModelError(f"face model {path} does not exist (tools/fetch_face_models.py)")
    interpreter = _load_interpreter_class()(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


def _square(image: Image) -> tuple[Image, int, int]:
    """Pad to a square (black), so the model sees undistorted faces; returns the pad offsets."""
    height, width = image.shape[:2]
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    padded = cv2.copyMakeBorder(
        image, top, side - height - top, left, side - width - left, cv2.BORDER_CONSTANT
    )
    return np.asarray(padded, dtype=np.uint8), left, top


class FaceDetector:
    """BlazeFace on a BGR image: the one most confident face, or None."""

    def __init__(self, variant: str = "short_range", threads: int = 1, threshold: float = 0.75):
        self.variant = VARIANTS[variant]
        self.threshold = threshold
        self._interpreter = _interpreter(MODELS_DIR / self.variant.file, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._boxes = next(d["index"] for d in outputs if d["shape"][-1] == 16)
        self._scores = next(d["index"] for d in outputs if d["shape"][-1] == 1)
        v = self.variant
        self.anchors = blazeface_anchors(v.size, v.strides, v.per_layer)

    def find(self, image: Image) -> Face | None:
        height, width = image.shape[:2]
        if height < 4 or width < 4:
            return None
        square, left, top = _square(image)
        size = self.variant.size
        rgb = cv2.cvtColor(cv2.resize(square, (size, size)), cv2.COLOR_BGR2RGB)
        tensor = (rgb.astype(np.float32) / 127.5 - 1.0)[np.newaxis]
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        logits = self._interpreter.get_tensor(self._scores)[0, :, 0]
        best = int(np.argmax(logits))
        score = float(1.0 / (1.0 + math.exp(-float(np.clip(logits[best], -100, 100)))))
        if score < self.threshold:
            return None
        raw = self._interpreter.get_tensor(self._boxes)[0, best] / size
        ax, ay = (float(v) for v in self.anchors[best])
        # Keypoints: right eye, left eye, nose tip, mouth, right ear, left ear.
        points = raw[4:16].reshape(6, 2) + self.anchors[best]
        cx, cy, w, h = raw[0] + ax, raw[1] + ay, raw[2], raw[3]
        side = square.shape[0]

        def to_image(x: float, y: float) -> tuple[float, float]:
            return (
                min(max((float(x) * side - left) / width, 0.0), 1.0),
                min(max((float(y) * side - top) / height, 0.0), 1.0),
            )

        x1, y1 = to_image(cx - w / 2, cy - h / 2)
        x2, y2 = to_image(cx + w / 2, cy + h / 2)
        right_eye, left_eye, nose = points[0], points[1], points[2]
        eye_distance = float(np.hypot(*(left_eye - right_eye)))
        midpoint = float(right_eye[0] + left_eye[0]) / 2
        yaw = abs(float(nose[0]) - midpoint) / max(eye_distance, 1e-6)
        return Face(score=score, box=(x1, y1, x2, y2), yaw=yaw)


class ExpressionReader:
    """fer's 64x64 grey expression model, reduced to mood probabilities."""

    def __init__(self, threads: int = 1) -> None:
        self._interpreter = _interpreter(EMOTION_MODEL, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        reduce = np.zeros((len(EXPRESSIONS), len(MOODS)), dtype=np.float32)
        for row, (_, mood) in enumerate(EXPRESSIONS):
            reduce[row, MOODS.index(mood)] = 1.0
        self._reduce = reduce

    def read(self, image: Image, face: Face) -> FloatArray:
        """Probabilities of (positive, neutral, negative) for the face in `image`."""
        height, width = image.shape[:2]
        x1, y1, x2, y2 = face.box
        # A square around the face with a tenth of margin, as the model was trained on.
        side = max((x2 - x1) * width, (y2 - y1) * height) * 1.2
        cx, cy = (x1 + x2) / 2 * width, (y1 + y2) / 2 * height
        left, top = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
        right, bottom = int(min(cx + side / 2, width)), int(min(cy + side / 2, height))
        crop = image[top:bottom, left:right]
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            return np.full(len(MOODS), 1 / len(MOODS), dtype=np.float32)
        grey = cv2.cvtColor(cv2.resize(crop, (64, 64)), cv2.COLOR_BGR2GRAY)
        tensor = (grey.astype(np.float32) / 127.5 - 1.0)[np.newaxis, :, :, np.newaxis]
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        scores = self._interpreter.get_tensor(self._output)[0].astype(np.float32)
        total = float(scores.sum())
        scores = scores / total if total > 0 else np.full_like(scores, 1 / len(scores))
        moods: FloatArray = scores @ self._reduce
        return moods


@dataclass(frozen=True, slots=True)
class Look:
    """What one person's head region showed at one moment."""

    frontal: bool
    moods: FloatArray | None  # (positive, neutral, negative) when mood is on and frontal


class FaceReader:
    """Looks at the head region of a person box: face found and frontal, and its mood."""

    def __init__(
        self,
        detector: FaceDetector,
        expressions: ExpressionReader | None,
        max_yaw: float,
        head_share: float,
    ) -> None:
        self.detector = detector
        self.expressions = expressions
        self.max_yaw = max_yaw
        self.head_share = head_share
        self.looks = 0  # head regions looked at so far (for the benchmark)

    def look(self, frame: Image, person: Box) -> Look:
        self.looks += 1
        height, width = frame.shape[:2]
        x1, y1, x2, y2 = person
        top = int(y1 * height)
        bottom = int((y1 + (y2 - y1) * self.head_share) * height)
        head = frame[top : max(bottom, top + 1), int(x1 * width) : int(x2 * width) + 1]
        face = self.detector.find(head)
        if face is None or not face.frontal(self.max_yaw):
            return Look(frontal=False, moods=None)
        moods = self.expressions.read(head, face) if self.expressions is not None else None
        return Look(frontal=True, moods=moods)


def build_face_reader(settings: AudienceConfig, *, mood: bool, threads: int) -> FaceReader:
    """The face models the audience features ask for, loaded once."""
    return FaceReader(
        FaceDetector(settings.face_model, threads=threads, threshold=settings.face_threshold),
        ExpressionReader(threads=threads) if mood else None,
        max_yaw=settings.max_yaw,
        head_share=settings.head_share,
    )
