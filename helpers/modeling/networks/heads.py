"""The parts every network shares: its image input and its softmax head over the classes."""

from __future__ import annotations

import helpers.quiet_tensorflow  # noqa: F401

import keras
from keras import layers

from helpers.layout import CLASS_NAMES


def image_input(image_size: int) -> keras.KerasTensor:
    """The network's input: raw 0-255 RGB images of `image_size` pixels a side."""
    return keras.Input((image_size, image_size, 3), name="image")


def class_probabilities(x: keras.KerasTensor) -> keras.KerasTensor:
    """The softmax head over the classes, computed in float32 whatever the precision policy."""
    return layers.Dense(
        len(CLASS_NAMES), activation="softmax", dtype="float32", name="probabilities"
    )(x)
