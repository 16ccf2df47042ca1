"""Multiply-accumulates per inference of a TFLite model, counted from its graph.

The budget figure that carries over between machines: time depends on the CPU, but the number
of multiply-accumulates (MACs) a model needs per frame does not. Only the ops that dominate a
detector are counted — convolutions, depthwise convolutions, transposed convolutions and fully
connected layers; element-wise ops, resizes and the post-process op add a few percent at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any

from .detect import ModelError


@dataclass(frozen=True, slots=True)
class ModelMacs:
    """MACs per inference, in total and per counted op type."""

    total: int
    by_op: dict[str, int]

    @property
    def gmacs(self) -> float:
        return self.total / 1e9


def _op_macs(op: str, shapes_in: Sequence[Sequence[int]], shape_out: Sequence[int]) -> int:
    """MACs of one op from its tensors' shapes (TFLite layouts, NHWC)."""
    outputs = prod(shape_out)
    if op == "CONV_2D":  # filter [out, kh, kw, in / groups]
        _, kh, kw, cin = shapes_in[1]
        return outputs * kh * kw * cin
    if op == "DEPTHWISE_CONV_2D":  # filter [1, kh, kw, channels]: one input channel each
        _, kh, kw, _ = shapes_in[1]
        return outputs * kh * kw
    if op == "TRANSPOSE_CONV":  # inputs: output shape, filter [out, kh, kw, in], input
        _, kh, kw, _ = shapes_in[1]
        return prod(shapes_in[2]) * kh * kw * shapes_in[1][0]
    if op == "FULLY_CONNECTED":  # weights [units, in]
        return outputs * shapes_in[1][-1]
    return 0


def _interpreter(path: Path) -> Any:
    """An interpreter without delegates: XNNPACK would hide the ops inside one DELEGATE node."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter, OpResolverType
        except ImportError:
            raise ModelError("no TFLite runtime: install 'ai-edge-litert'") from None
    try:
        return Interpreter(
            model_path=str(path),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    except (ValueError, RuntimeError) as err:
        raise ModelError(f"{path} is not a usable TFLite model: {err}") from None


def count_macs(path: str | Path) -> ModelMacs:
    """MACs one inference of the model at `path` needs."""
    interpreter = _interpreter(Path(path))
    shapes = {d["index"]: [int(v) for v in d["shape"]] for d in interpreter.get_tensor_details()}
    by_op: dict[str, int] = {}
    for op in interpreter._get_ops_details():
        inputs = [shapes.get(int(i), []) for i in op["inputs"]]
        output = shapes.get(int(op["outputs"][0]), []) if len(op["outputs"]) else []
        macs = _op_macs(op["op_name"], inputs, output)
        if macs:
            by_op[op["op_name"]] = by_op.get(op["op_name"], 0) + macs
    return ModelMacs(total=sum(by_op.values()), by_op=by_op)
