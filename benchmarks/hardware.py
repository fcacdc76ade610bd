"""The CPU's measured peak: large matmuls and convolutions timed in TensorFlow, and model FLOPs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import helpers.quiet_tensorflow  # noqa: F401

import keras
import tensorflow as tf

PEAK_DTYPES = ("float32", "bfloat16")
MATMUL_SIZE = 2048  # [n, n] @ [n, n]: 2·n³ FLOPs
CONV_SHAPE = (64, 32, 32, 128)  # a batch of feature maps like compact_cnn's middle stages
CONV_FILTERS = 128
CONV_KERNEL = 3


@dataclass(frozen=True)
class Peak:
    """The best rate of one large op in one dtype, in FLOP/s."""

    op: str
    dtype: str
    flops_per_second: float

    def to_dict(self) -> dict:
        """Plain mapping for results.json."""
        return {"op": self.op, "dtype": self.dtype, "flops_per_second": self.flops_per_second}


def conv2d_flops(height: int, width: int, kernel: int, channels_in: int, filters: int) -> int:
    """Multiply-adds of a convolution, counted as 2 FLOPs each, over an output of height×width."""
    return 2 * height * width * kernel * kernel * channels_in * filters


def model_flops(model: keras.Model) -> int:
    """Forward FLOPs per image of the model's Conv2D and Dense layers.

    Those hold all but a small part of the arithmetic; batch norm, pooling, activations and
    augmentation are left out (they are memory-bound, not FLOP-bound).
    """
    total = 0
    for layer in _leaf_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_h, kernel_w = layer.kernel_size
            taps = kernel_h * kernel_w  # conv2d_flops takes a square kernel; count the taps here
            total += taps * conv2d_flops(height, width, 1, layer.input.shape[-1], filters)
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)


def _leaf_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers, nested models opened."""
    layers = []
    for layer in model.layers:
        layers += _leaf_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return layers


def _best_rate(step: Callable[[], tf.Tensor], flops: float, min_seconds: float) -> float:
    """The best FLOP/s of `step` over runs that together take at least min_seconds."""
    step().numpy()  # trace and warm up
    best, spent = 0.0, 0.0
    while spent < min_seconds:
        start = time.perf_counter()
        step().numpy()
        elapsed = time.perf_counter() - start
        best, spent = max(best, flops / elapsed), spent + elapsed
    return best


def matmul_peak(dtype: str, size: int = MATMUL_SIZE, min_seconds: float = 1.0) -> Peak:
    """FLOP/s of a [size, size] @ [size, size] matmul in `dtype`."""
    a = tf.random.stateless_normal([size, size], seed=(1, 2), dtype="float32")
    a = tf.cast(a, dtype)
    step = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)[:1, :1]))
    return Peak(f"matmul {size}×{size}", dtype, _best_rate(step, 2 * size**3, min_seconds))


def conv2d_peak(
    dtype: str,
    shape: tuple[int, int, int, int] = CONV_SHAPE,
    filters: int = CONV_FILTERS,
    kernel: int = CONV_KERNEL,
    min_seconds: float = 1.0,
) -> Peak:
    """FLOP/s of a 'same'-padded conv2d of a [batch, height, width, channels] input in `dtype`."""
    batch, height, width, channels = shape
    x = tf.cast(tf.random.stateless_normal(shape, seed=(1, 2)), dtype)
    w = tf.cast(tf.random.stateless_normal([kernel, kernel, channels, filters], seed=(3, 4)), dtype)
    step = tf.function(
        lambda: tf.reduce_sum(tf.nn.conv2d(x, w, strides=1, padding="SAME")[:1, :1, :1, :1])
    )
    flops = batch * conv2d_flops(height, width, kernel, channels, filters)
    name = f"conv2d {batch}×{height}×{width}×{channels} → {filters}, {kernel}×{kernel}"
    return Peak(name, dtype, _best_rate(step, flops, min_seconds))


def measure_peaks(min_seconds: float = 1.0) -> list[Peak]:
    """The matmul and conv2d peaks in float32 and bfloat16."""
    return [
        measure(dtype, min_seconds=min_seconds)
        for measure in (matmul_peak, conv2d_peak)
        for dtype in PEAK_DTYPES
    ]


def utilization(flops_per_image: int, images_per_second: float, peak: float) -> float:
    """Fraction of `peak` FLOP/s used by training: forward + backward ≈ 3 × forward FLOPs."""
    return 3 * flops_per_image * images_per_second / peak
