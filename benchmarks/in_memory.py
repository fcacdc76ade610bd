"""Training on one batch held in memory: the training rate with no input pipeline involved.

The suite's hardware rows and the training processes of the oneDNN and backend comparisons
measure with it.
"""

from __future__ import annotations

from collections.abc import Callable

import helpers.quiet_tensorflow  # noqa: F401

import keras
import tensorflow as tf

from helpers.config import Config
from helpers.layout import CLASS_NAMES
from helpers.modeling.training import build_model
from helpers.pipeline import with_fixed_parallelism

# The default network in float32: what `auto` picks on a CPU without fast bfloat16, which is where
# TensorFlow leaves oneDNN off by itself (on CPUs with it, oneDNN is on either way), and on JAX.
FLOAT32_TRAINING = {"precision": "float32"}


def batch_in_memory(images: tf.Tensor, labels: tf.Tensor) -> tf.data.Dataset:
    """One batch repeated for ever: training input that costs nothing to produce."""
    # Run as the project's pipelines run: with the autotuner on, each 20-step fit took ~5 s longer.
    return with_fixed_parallelism(tf.data.Dataset.from_tensors((images, labels)).repeat())


def random_batch(cfg: Config) -> tuple[tf.Tensor, tf.Tensor]:
    """One batch of cfg's size: random uint8 images and alternating one-hot labels."""
    shape = (cfg.batch_size, cfg.image_size, cfg.image_size, 3)
    images = tf.cast(tf.random.stateless_uniform(shape, seed=(1, 2), maxval=256), tf.uint8)
    labels = tf.one_hot(tf.range(cfg.batch_size) % len(CLASS_NAMES), len(CLASS_NAMES))
    return images, labels


def in_memory_training(cfg: Config, steps: int) -> tuple[keras.Model, Callable[[], int]]:
    """cfg's network, warmed up, and a call that trains it `steps` steps on one batch in memory."""
    model = build_model(cfg, steps_per_epoch=steps)  # sets the global dtype policy
    batches = batch_in_memory(*random_batch(cfg))

    def train() -> int:
        model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0)
        return steps * cfg.batch_size

    train()  # trace and warm up
    return model, train
