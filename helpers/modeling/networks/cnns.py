"""The networks trained from scratch: the seed article's, and three Conv-BatchNorm-ReLU stacks."""

from __future__ import annotations

import helpers.quiet_tensorflow  # noqa: F401

import keras
from keras import layers

from helpers.modeling.networks.heads import class_probabilities, image_input


def _rescaled_input(image_size: int) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The network's input of raw 0-255 RGB images, and that input rescaled to [0, 1]."""
    inputs = image_input(image_size)
    return inputs, layers.Rescaling(1.0 / 255, name="rescale")(inputs)


def build_seed_cnn(image_size: int) -> keras.Model:
    """The seed article's network: one 64-filter conv, max-pool, dense 512, two-class softmax."""
    inputs, x = _rescaled_input(image_size)
    x = layers.Conv2D(64, 3, activation="relu", name="conv")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    # The article puts relu here: its outputs are not probabilities and the loss goes NaN.
    outputs = class_probabilities(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def _conv_stage(x: keras.KerasTensor, widths: tuple[int, ...], stage: int) -> keras.KerasTensor:
    """3x3 convolutions with batch norm and ReLU; max-pooling after the last halves the size.

    The last convolution is pooled before it is normalized: the same network up to the order of two
    per-channel operations, with a quarter of the batch-normalization work, which dominated a
    bfloat16 training step on a 2-core CPU in throughput probes (docs/models.md).
    """
    for index, width in enumerate(widths, start=1):
        name = f"stage{stage}_conv{index}"
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=name)(x)
        if index == len(widths):
            x = layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
        x = layers.ReLU(name=f"{name}_relu")(x)
    return x


def build_compact_cnn(
    image_size: int,
    stages: tuple[tuple[int, ...], ...] = ((32,), (64,), (128,), (256, 256)),
    dropout: float = 0.3,
    name: str = "compact_cnn",
) -> keras.Model:
    """Conv-BatchNorm-ReLU stages with max-pooling, then global average pooling and a head.

    The head is dropout and a softmax layer.
    """
    inputs, x = _rescaled_input(image_size)
    for stage, widths in enumerate(stages, start=1):
        x = _conv_stage(x, widths, stage)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = class_probabilities(x)
    return keras.Model(inputs, outputs, name=name)


def build_slim_cnn(image_size: int) -> keras.Model:
    """`compact_cnn` at half the width (16 to 128 filters), a quarter of its work per pixel.

    The default: at 72 px an epoch takes about 0.3 of compact_cnn's at 64 px, so a CPU budget
    holds three times the epochs (docs/models.md).
    """
    stages = ((16,), (32,), (64,), (128, 128))
    return build_compact_cnn(image_size, stages=stages, name="slim_cnn")


def build_large_cnn(image_size: int) -> keras.Model:
    """A deeper, wider `compact_cnn` for larger images and budgets: 5 stages up to 512 filters."""
    stages = ((32,), (64, 64), (128, 128), (256, 256), (512, 512))
    return build_compact_cnn(image_size, stages=stages, dropout=0.4, name="large_cnn")
