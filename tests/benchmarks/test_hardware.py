"""FLOP counting and the peak measurement of benchmarks.hardware (no timing asserted)."""

from __future__ import annotations

import keras
import pytest

from benchmarks.hardware import conv2d_flops, matmul_peak, model_flops, utilization


def _tiny_model() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8×8 output
    x = keras.layers.Conv2D(5, (1, 3))(x)  # 8×6 output, a non-square kernel
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def test_model_flops_counts_convolutions_and_dense_layers_per_image():
    expected = 2 * 8 * 8 * 3 * 3 * 3 * 4 + 2 * 8 * 6 * 1 * 3 * 4 * 5 + 2 * 5 * 2
    assert model_flops(_tiny_model()) == expected


def test_model_flops_opens_nested_models():
    inner = _tiny_model()
    inputs = keras.Input((8, 8, 3))
    outer = keras.Model(inputs, inner(keras.layers.Rescaling(0.5)(inputs)))
    assert model_flops(outer) == model_flops(inner)


def test_conv2d_flops_and_training_utilization():
    assert conv2d_flops(2, 3, 3, 4, 5) == 2 * 2 * 3 * 9 * 4 * 5
    # 3 × 1 MFLOP × 100 images/s = 300 MFLOP/s of a 1.2 GFLOP/s peak
    assert utilization(1_000_000, 100.0, 1.2e9) == pytest.approx(0.25)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_matmul_peak_reports_a_positive_rate_in_its_dtype(dtype):
    peak = matmul_peak(dtype, size=64, min_seconds=0.01)
    assert peak.dtype == dtype and peak.op == "matmul 64×64" and peak.flops_per_second > 0
