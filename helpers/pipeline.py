"""tf.data input pipelines: parallel decode, resize, cache, shuffle, batch, prefetch."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from helpers.dataset import CLASS_NAMES

AUTOTUNE = tf.data.AUTOTUNE


def load_image(path: tf.Tensor, image_size: int) -> tf.Tensor:
    """Read, decode (JPEG, PNG; grey or RGBA become RGB) and resize one image to uint8 [size, size, 3]."""
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    image = tf.image.resize(image, (image_size, image_size), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def make_dataset(
    paths: Sequence[str],
    labels: Sequence[int] | None = None,
    *,
    image_size: int,
    batch_size: int,
    shuffle_buffer: int = 0,
    cache: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of images (and one-hot labels when given) read from `paths` in order, shuffled if shuffle_buffer > 0."""
    if labels is None:
        dataset = tf.data.Dataset.from_tensor_slices(list(paths))
        dataset = dataset.map(lambda p: load_image(p, image_size), num_parallel_calls=AUTOTUNE)
    else:
        dataset = tf.data.Dataset.from_tensor_slices((list(paths), list(labels)))
        dataset = dataset.map(
            lambda p, y: (load_image(p, image_size), tf.one_hot(y, len(CLASS_NAMES))),
            num_parallel_calls=AUTOTUNE,
        )
    if cache:
        dataset = dataset.cache()
    if shuffle_buffer > 0:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    # Augmentation is not here but in the model (see modeling.models): its random ops are stateful,
    # and under op determinism TensorFlow would rewrite a cached, shuffled pipeline holding them.
    return dataset.batch(batch_size).prefetch(AUTOTUNE)
