"""Progressive resizing: training starts on smaller photos and grows them to the full size.

Fast ImageNet recipes train their early epochs at a low resolution, where an epoch costs a
fraction of a full one, and end at the full one. Here the photos stay cached at image_size; each
training batch is shrunk to the size the schedule gives its epoch, from start_image_size up in
steps of SIZE_STEP pixels, and the last part of the run trains at image_size, so that the network
settles (batch-norm statistics included) at the size it validates and predicts at. The
network is fully convolutional up to its global pooling, so the same weights read every size.
"""

from __future__ import annotations

from collections.abc import Callable

import helpers.quiet_tensorflow  # noqa: F401

import keras
import tensorflow as tf

from helpers.config import BACKBONE_MODELS, Config

SIZE_STEP = 8  # sizes grow by this many pixels: 48, 56, 64, 72
# The share of the run's progress (epochs, or the time budget) trained at full size at the end; the
# smaller sizes share the rest equally.
FULL_SIZE_SHARE = 0.25


def training_sizes(cfg: Config) -> tuple[int, ...]:
    """The sizes the training photos take, smallest first; (image_size,) without resizing.

    Only the cosine schedule resizes, whose end is planned (early stopping could end a plateau
    run at a small size), and only the networks trained from scratch: a pretrained backbone
    trains in phases of its own.
    """
    start = cfg.start_image_size
    if start is None or cfg.lr_schedule != "cosine" or cfg.model in BACKBONE_MODELS:
        return (cfg.image_size,)
    return (*range(start, cfg.image_size, SIZE_STEP), cfg.image_size)


def size_at(sizes: tuple[int, ...], progress: float) -> int:
    """The size trained at `progress` (0 to 1) through the run."""
    ramp = 1.0 - FULL_SIZE_SHARE
    if progress >= ramp:
        return sizes[-1]
    return sizes[min(len(sizes) - 1, int(progress / ramp * (len(sizes) - 1)))]


def shrink(images: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """uint8 images resized down to size × size, antialiased as the photos are on decoding."""
    small = tf.image.resize(images, tf.stack([size, size]), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(small), 0.0, 255.0), tf.uint8)


class ProgressiveResizing(keras.callbacks.Callback):
    """Sets, as each epoch begins, the size its training batches are shrunk to (`resized`).

    `progress(epoch)` says how far the run is (0 to 1) as that epoch begins. Keras starts each
    epoch's pass over the dataset after on_epoch_begin, so the whole epoch trains at its size.
    Each epoch's size is logged as `image_size` (a column of history.csv).
    """

    def __init__(self, sizes: tuple[int, ...], progress: Callable[[int], float]) -> None:
        super().__init__()
        self.sizes = sizes
        self.progress = progress
        self.size = tf.Variable(sizes[-1], trainable=False, dtype=tf.int32, name="training_size")

    def resized(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
        """`dataset`'s (images, labels) batches at the size of the current epoch."""
        full = self.sizes[-1]

        def resize(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            size = self.size.read_value()
            # At full size the batch passes untouched: the last epochs see the photos as cached.
            images = tf.cond(size < full, lambda: shrink(images, size), lambda: images)
            return images, labels

        # One batch at a time, ahead of the training step: shrinking a batch takes a small
        # fraction of a step's time.
        return dataset.map(resize).prefetch(tf.data.AUTOTUNE)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.size.assign(size_at(self.sizes, self.progress(epoch)))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["image_size"] = int(self.size.numpy())


def resized_by(
    callbacks: list[keras.callbacks.Callback], dataset: tf.data.Dataset
) -> tf.data.Dataset:
    """`dataset` as the ProgressiveResizing among `callbacks` shrinks it; as it is without one."""
    for callback in callbacks:
        if isinstance(callback, ProgressiveResizing):
            return callback.resized(dataset)
    return dataset
