"""Progressive resizing: training starts on smaller photos and grows them to the full size.

Fast ImageNet recipes train their early epochs at a low resolution, where an epoch costs a
fraction of a full one, and end at the full one. Here the photos stay cached at image_size; the
training model's first layer (`TrainingSize`) shrinks each training batch to the size the schedule
gives its epoch, from start_image_size up in steps of SIZE_STEP pixels, and the last part of the
run trains at image_size, so that the network settles (batch-norm statistics included) at the size
it validates and predicts at. The network is fully convolutional up to its global pooling, so the
same weights read every size.
"""

from __future__ import annotations

from collections.abc import Callable

import helpers.quiet_tensorflow  # noqa: F401

import keras
from keras import ops

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


def shrink(images, size: int):
    """0-255 images shrunk to size × size, antialiased and rounded as decoding shrinks photos."""
    small = ops.image.resize(images, (size, size), antialias=True)
    return ops.clip(ops.round(small), 0.0, 255.0)


class TrainingSize(keras.layers.Layer):
    """Shrinks each training batch to `size` pixels a side; passes every other batch as it is.

    `size` is a Python number, fixed in the training step when Keras traces it: set it with
    `set_training_size`, which has the step traced anew. (A variable read in the tf.data pipeline
    would be simpler, but under op determinism TensorFlow then runs that whole pipeline on one
    thread with no prefetching, decoding included.)
    """

    def __init__(self, size: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.size = size

    def call(self, images, training: bool | None = None):
        if not training or self.size is None or self.size >= images.shape[1]:
            return images
        return shrink(images, self.size)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape  # as Keras builds the model: training batches shrink only as they train


def set_training_size(model: keras.Model, size: int) -> None:
    """Train `model` on batches of `size` pixels a side from its next step on."""
    layer = next((layer for layer in model.layers if isinstance(layer, TrainingSize)), None)
    if layer is None:
        raise ValueError(f"{model.name} has no TrainingSize layer: build it with start_image_size")
    if layer.size != size:
        layer.size = size
        model.make_train_function(force=True)  # the next step is traced with the new size


class ProgressiveResizing(keras.callbacks.Callback):
    """Sets, as each epoch begins, the size its training batches are shrunk to.

    `progress(epoch)` says how far the run is (0 to 1) as that epoch begins; the model's
    `TrainingSize` layer shrinks the batches. Each epoch's size is logged as `image_size` (a
    column of history.csv).
    """

    def __init__(self, sizes: tuple[int, ...], progress: Callable[[int], float]) -> None:
        super().__init__()
        self.sizes = sizes
        self.progress = progress
        self.size = sizes[-1]

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.size = size_at(self.sizes, self.progress(epoch))
        set_training_size(self.model, self.size)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["image_size"] = self.size
