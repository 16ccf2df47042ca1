"""Person detection with a TFLite SSD model on LiteRT (`ai-edge-litert`).

Accepts the standard 4-output SSD format (boxes, classes, scores, count from the
TFLite_Detection_PostProcess op) — the bundled person model and the COCO models other NVRs use.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .profiles import DEFAULT_MODEL, bundled_stem
from .types import Detection

MODELS_DIR = Path(__file__).with_name("models")
BUNDLED_LABELS_PATH = MODELS_DIR / "labels.txt"


def bundled_model_path(name: str) -> Path | None:
    """The file of a bundled model name ('bundled', 'ssdlite', ...), None for anything else."""
    stem = bundled_stem(name)
    return None if stem is None else MODELS_DIR / f"{stem}.tflite"


BUNDLED_MODEL_PATH = MODELS_DIR / f"{bundled_stem(DEFAULT_MODEL)}.tflite"


class ModelError(RuntimeError):
    """The model cannot be used; the message says which file and why."""


def _load_interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # Raspberry Pi OS images that only have tflite-runtime
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise ModelError(
                "no TFLite runtime: install 'ai-edge-litert' (pip install ai-edge-litert)"
            ) from None
    return Interpreter


def read_labels(path: Path) -> dict[int, str]:
    """Label maps come as 'label' per line (index = line) or 'id label' per line (Coral style)."""
    labels: dict[int, str] = {}
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    numbered = all(re.match(r"^\d+\s+\S", line) for line in lines if line)
    for index, line in enumerate(lines):
        if not line:
            continue
        if numbered:
            number, label = line.split(maxsplit=1)
            labels[int(number)] = label.strip()
        else:
            labels[index] = line
    return labels


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    path: Path
    sha256: str
    input_size: tuple[int, int]  # width, height
    input_dtype: str
    person_class: int


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Detector:
    """Runs the model on BGR frames and returns person detections in normalized coordinates."""

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        labels: str | Path | None = None,
        person_label: str = "person",
        threads: int = 2,
        min_score: float = 0.1,
    ) -> None:
        bundled = bundled_model_path(str(model))
        path = bundled or Path(model)
        labels_path = BUNDLED_LABELS_PATH if bundled else labels
        if not path.is_file():
            raise ModelError(f"model file {path} does not exist")
        interpreter_class = _load_interpreter_class()
        try:
            self._interpreter = interpreter_class(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ModelError(f"{path} is not a usable TFLite model: {err}") from None
        self._input = self._interpreter.get_input_details()[0]
        _, height, width, _ = (int(v) for v in self._input["shape"])
        self._outputs = self._map_outputs(path)
        self.min_score = min_score
        self.info = ModelInfo(
            name=path.stem,
            path=path,
            sha256=_sha256(path),
            input_size=(width, height),
            input_dtype=np.dtype(self._input["dtype"]).name,
            person_class=self._person_class(labels_path, person_label, path),
        )
        self.last_invoke_s = 0.0
        self._buffer = np.empty((1, height, width, 3), dtype=np.float32)

    def _map_outputs(self, path: Path) -> dict[str, int]:
        """Find boxes/classes/scores/count among the outputs, whatever order the model uses."""
        details = self._interpreter.get_output_details()
        if len(details) != 4:
            raise ModelError(
                f"{path} has {len(details)} outputs; a TFLite SSD detection model has 4 "
                "(boxes, classes, scores, count)"
            )
        by_suffix: dict[str, int] = {}
        for detail in details:
            match = re.search(r"PostProcess(?::(\d))?$", detail["name"])
            if match:
                by_suffix[match.group(1) or "0"] = detail["index"]
        if len(by_suffix) == 4:
            order = ("boxes", "classes", "scores", "count")
            return {role: by_suffix[str(i)] for i, role in enumerate(order)}
        # No post-process names: boxes are [1, N, 4], count is [1]; classes precede scores.
        boxes = [d["index"] for d in details if len(d["shape"]) == 3]
        count = [d["index"] for d in details if len(d["shape"]) == 1]
        pairs = [d["index"] for d in details if len(d["shape"]) == 2]
        if len(boxes) != 1 or len(count) != 1 or len(pairs) != 2:
            raise ModelError(f"{path}: outputs are not in the TFLite SSD detection format")
        return {"boxes": boxes[0], "classes": pairs[0], "scores": pairs[1], "count": count[0]}

    @staticmethod
    def _person_class(labels_path: str | Path | None, person_label: str, model: Path) -> int:
        if labels_path is None:
            return 0
        labels_file = Path(labels_path)
        if not labels_file.is_file():
            raise ModelError(f"label map {labels_file} for {model} does not exist")
        for class_id, label in read_labels(labels_file).items():
            if label == person_label:
                return class_id
        raise ModelError(f"label map {labels_file} has no label {person_label!r}")

    def _prepare(self, frame_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
        width, height = self.info.input_size
        small = cv2.resize(frame_bgr, (width, height))
        cv2.cvtColor(small, cv2.COLOR_BGR2RGB, dst=small)
        if self._input["dtype"] == np.uint8:
            return small[np.newaxis]
        # Float SSD MobileNet models expect pixels mapped to [-1, 1]. Written into one reused
        # buffer: this runs on every frame and allocating it each time costs as much as the math.
        np.multiply(small, np.float32(1 / 127.5), out=self._buffer[0], casting="unsafe")
        np.subtract(self._buffer, np.float32(1.0), out=self._buffer)
        return self._buffer

    def detect(self, frame_bgr: npt.NDArray[np.uint8]) -> list[Detection]:
        """People in the frame with a score of at least `min_score`, best first."""
        self._interpreter.set_tensor(self._input["index"], self._prepare(frame_bgr))
        start = time.perf_counter()
        self._interpreter.invoke()
        self.last_invoke_s = time.perf_counter() - start
        get = self._interpreter.get_tensor
        count = int(get(self._outputs["count"])[0])
        scores = get(self._outputs["scores"])[0][:count]
        classes = get(self._outputs["classes"])[0][:count]
        keep = np.flatnonzero((scores >= self.min_score) & (classes == self.info.person_class))
        if keep.size == 0:
            return []
        boxes = np.clip(get(self._outputs["boxes"])[0][keep], 0.0, 1.0)
        people = [
            Detection(box=(float(xmin), float(ymin), float(xmax), float(ymax)), score=float(score))
            for (ymin, xmin, ymax, xmax), score in zip(boxes, scores[keep], strict=True)
            if xmax > xmin and ymax > ymin
        ]
        people.sort(key=lambda d: d.score, reverse=True)
        return people
