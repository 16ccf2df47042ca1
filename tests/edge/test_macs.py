"""MACs per frame counted from the bundled models' TFLite graphs."""

from __future__ import annotations

import pytest

from edge_node.detect import MODELS_DIR, ModelError
from edge_node.macs import _op_macs, count_macs


def test_one_op_by_hand() -> None:
    # 3x3 convolution, 3 -> 32 channels, 150x150 output: 150*150*32 * 3*3*3.
    assert _op_macs("CONV_2D", [[1, 300, 300, 3], [32, 3, 3, 3], [32]], [1, 150, 150, 32]) == (
        150 * 150 * 32 * 27
    )
    # Depthwise: one input channel per output channel.
    assert _op_macs("DEPTHWISE_CONV_2D", [[1, 8, 8, 16], [1, 3, 3, 16]], [1, 8, 8, 16]) == (
        8 * 8 * 16 * 9
    )
    assert _op_macs("FULLY_CONNECTED", [[1, 1280], [10, 1280]], [1, 10]) == 12800
    assert _op_macs("ADD", [[1, 4], [1, 4]], [1, 4]) == 0


def test_bundled_models() -> None:
    ssdlite = count_macs(MODELS_DIR / "ssdlite_mobilenet_v2_person.tflite")
    int8 = count_macs(MODELS_DIR / "ssdlite_mobilenet_v2_person_int8.tflite")
    nanodet = count_macs(MODELS_DIR / "nanodet_g_person_int8.tflite")
    assert ssdlite == int8, "quantising changes the number format, not the work"
    assert set(ssdlite.by_op) == {"CONV_2D", "DEPTHWISE_CONV_2D"}
    assert 0.55 < ssdlite.gmacs < 0.7
    assert set(nanodet.by_op) == {"CONV_2D"}  # NanoDet-g has no depthwise convolutions
    assert 3.5 < nanodet.gmacs / ssdlite.gmacs < 4.3
    assert nanodet.total == sum(nanodet.by_op.values())


def test_not_a_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a usable TFLite model"):
        count_macs(bad)
