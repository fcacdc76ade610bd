"""tf.data input pipelines: parallel decode, resize, cache, shuffle, batch, prefetch."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence

import helpers.quiet_tensorflow  # noqa: F401

import numpy as np
import tensorflow as tf

from helpers.config import BAD_IMAGE_MODES
from helpers.image_check import EMPTY_FILE, IMAGE_SIGNATURES, NOT_AN_IMAGE, TRUNCATED_JPEG
from helpers.layout import CLASS_NAMES

AUTOTUNE = tf.data.AUTOTUNE
JPEG_MAGIC = next(magic for magic, name in IMAGE_SIGNATURES if name == "jpeg")


def _is_jpeg(data: tf.Tensor) -> tf.Tensor:
    """Whether encoded bytes start with the JPEG signature."""
    return tf.strings.substr(data, 0, len(JPEG_MAGIC)) == JPEG_MAGIC


def image_problem(data: tf.Tensor) -> tf.Tensor:
    """Why encoded bytes cannot be a readable image, or "" when they may be.

    The reasons: empty, not an image, truncated JPEG.
    """
    size = tf.strings.length(data)
    known = tf.reduce_any(
        [tf.strings.substr(data, 0, len(magic)) == magic for magic, _ in IMAGE_SIGNATURES]
    )
    jpeg = _is_jpeg(data)
    # A whole JPEG ends with the end-of-image marker FF D9, perhaps followed by zero padding.
    # Two zero bytes in front keep the indices below valid for files shorter than that.
    tail = tf.concat(
        [
            tf.zeros([2], tf.uint8),
            tf.io.decode_raw(tf.strings.substr(data, tf.maximum(size - 32, 0), 32), tf.uint8),
        ],
        0,
    )
    last = tf.reduce_max(tf.concat([tf.where(tail != 0)[:, 0], [1]], 0))  # last non-zero byte
    ends_well = (tail[last - 1] == 0xFF) & (tail[last] == 0xD9)
    # The first reason that holds, or "" at the end: a gather rather than tf.case, whose branches
    # are functions called for every image (docs/history.md).
    reasons = tf.constant([EMPTY_FILE, NOT_AN_IMAGE, TRUNCATED_JPEG, ""])
    holds = tf.stack([size == 0, tf.logical_not(known), jpeg & tf.logical_not(ends_well), True])
    return tf.gather(reasons, tf.argmax(tf.cast(holds, tf.int32), output_type=tf.int32))


def _read_checked(path: tf.Tensor, bad_images: str) -> tuple[tf.Tensor, tf.Tensor]:
    """The file's bytes and whether they look readable; a bad file is reported by name."""
    data = tf.io.read_file(path)
    problem = image_problem(data)
    ok = tf.equal(problem, "")
    message = tf.strings.join(["bad image ", path, ": ", problem])
    if bad_images == "stop":
        check = tf.debugging.Assert(
            ok, [message, "(set bad_images=skip to leave such files out)"], summarize=1
        )
        with tf.control_dependencies([check]):
            return tf.identity(data), ok
    skipped = tf.strings.join([message, " (skipped)"])
    report = tf.cond(ok, tf.no_op, lambda: tf.print(skipped, output_stream=sys.stderr))
    with tf.control_dependencies([report]):
        return tf.identity(data), ok


DCT_RATIOS = (8, 4, 2, 1)  # the downscaling factors libjpeg can apply while decoding


def _decode_jpeg_scaled(data: tf.Tensor, image_size: int) -> tf.Tensor:
    """Decode a JPEG at the smallest DCT scale that keeps both sides at least image_size.

    The scales are 1/8, 1/4, 1/2 and 1.
    """
    shape = tf.image.extract_jpeg_shape(data)
    shortest = tf.minimum(shape[0], shape[1])
    # Index of the first (largest) ratio that still leaves the shortest side at least image_size.
    fits = tf.stack([shortest // ratio >= image_size for ratio in DCT_RATIOS])
    choice = tf.argmax(tf.concat([tf.cast(fits, tf.int32), [1]], 0), output_type=tf.int32)
    branches = [
        lambda r=ratio: tf.io.decode_jpeg(data, channels=3, ratio=r) for ratio in DCT_RATIOS
    ]
    return tf.switch_case(tf.minimum(choice, len(DCT_RATIOS) - 1), branches)


def _decode(data: tf.Tensor, image_size: int) -> tf.Tensor:
    """Decode (JPEG, PNG; grey, CMYK or RGBA become RGB) and resize to uint8 [size, size, 3].

    A JPEG much larger than image_size is decoded at a reduced DCT scale first: libjpeg skips most
    of the work, and the antialiased resize that follows starts from a smaller image.
    """
    image = tf.cond(
        _is_jpeg(data),
        lambda: _decode_jpeg_scaled(data, image_size),
        lambda: tf.io.decode_image(data, channels=3, expand_animations=False),
    )
    # A photo that the DCT scale already brought to the size (a 128 px photo read for a 64 px
    # network) skips the resize: it would return the same pixels, and costs more than the decode.
    shape = tf.shape(image)
    return tf.cond(
        (shape[0] == image_size) & (shape[1] == image_size),
        lambda: tf.ensure_shape(image, [image_size, image_size, 3]),
        lambda: _resized(image, image_size),
    )


def _resized(image: tf.Tensor, image_size: int) -> tf.Tensor:
    """An image resized (antialiased where it shrinks) to uint8 [size, size, 3]."""
    size = (image_size, image_size)
    shape = tf.shape(image)
    # Enlarging, the antialiasing filter is plain bilinear (the same pixels, to float rounding), and
    # its general kernel took over twice as long on a 128 px photo read at 150 px (docs/history.md).
    image = tf.cond(
        (shape[0] > image_size) | (shape[1] > image_size),
        lambda: tf.image.resize(image, size, antialias=True),
        lambda: tf.image.resize(image, size),
    )
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


# Prediction decodes on this many threads: the network's own ops use every core, and more decoders
# only compete with them for the CPU (docs/history.md).
PREDICT_PARALLEL_CALLS = 1


# The functions that every pipeline maps are traced once per setting and kept: tracing the checks
# and the DCT-scale branches takes longer than predicting a hundred photos (docs/history.md), and
# every prediction call and every labelled split builds a new pipeline.
_ONE_STRING = [tf.TensorSpec([], tf.string)]


@functools.cache
def _image_reader(image_size: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """Read, check and decode one path; a bad file stops with an error naming it."""

    @tf.function(input_signature=_ONE_STRING)
    def read(path: tf.Tensor) -> tf.Tensor:
        return _decode(_read_checked(path, "stop")[0], image_size)

    return read


@functools.cache
def _file_reader(bad_images: str) -> Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """Read and check one path (`_read_checked`): its bytes and whether they look readable."""
    return tf.function(lambda path: _read_checked(path, bad_images), input_signature=_ONE_STRING)


@functools.cache
def _decoder(image_size: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """Decode one image's bytes to uint8 [size, size, 3] (`_decode`)."""
    return tf.function(lambda data: _decode(data, image_size), input_signature=_ONE_STRING)


def _unlabelled_images(paths: Sequence[str], image_size: int) -> tf.data.Dataset:
    """Images in the order of `paths`; a bad file stops the pipeline with an error naming it."""
    dataset = tf.data.Dataset.from_tensor_slices(list(paths))
    # One map for read, check and decode: each map stage costs a hand-over between threads.
    return dataset.map(
        _image_reader(image_size), num_parallel_calls=PREDICT_PARALLEL_CALLS, deterministic=True
    )


def _labelled_images(
    paths: Sequence[str], labels: Sequence[int], image_size: int, bad_images: str
) -> tf.data.Dataset:
    """(image, one-hot label) pairs; a bad file is skipped or stops the pipeline (`bad_images`)."""
    dataset = tf.data.Dataset.from_tensor_slices((list(paths), list(labels)))
    read, decode = _file_reader(bad_images), _decoder(image_size)
    dataset = dataset.map(lambda p, y: (*read(p), y), num_parallel_calls=AUTOTUNE)
    if bad_images == "skip":
        dataset = dataset.filter(lambda data, ok, y: ok)
    dataset = dataset.map(
        lambda data, ok, y: (decode(data), tf.one_hot(y, len(CLASS_NAMES))),
        num_parallel_calls=AUTOTUNE,
    )
    if bad_images == "skip":
        dataset = dataset.ignore_errors()  # a file that passed the checks but still fails to decode
    return dataset


# The decoded images are cached in memory when they take at most this share of the memory
# available as the training starts; past it, each epoch reads the files again (slower, flat memory).
CACHE_SHARE = 0.5


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux's MemAvailable; else the free pages)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def cache_bytes(n_images: int, image_size: int) -> int:
    """The memory the cache of `n_images` decoded images takes: uint8 pixels and a one-hot label."""
    return n_images * (image_size * image_size * 3 + 4 * len(CLASS_NAMES))


def cache_fits(n_images: int, image_size: int) -> bool:
    """Whether `n_images` decoded images fit in CACHE_SHARE of the memory available now."""
    return cache_bytes(n_images, image_size) <= CACHE_SHARE * available_memory()


def cache_refused(n_images: int, image_size: int) -> str | None:
    """Why `n_images` decoded images are not cached (they would not fit); None when they fit."""
    if cache_fits(n_images, image_size):
        return None
    return (
        f"The {n_images:,} decoded images ({cache_bytes(n_images, image_size) / 2**30:.1f} GB) "
        f"would take more than {CACHE_SHARE:.0%} of the memory available "
        f"({available_memory() / 2**30:.1f} GB): not cached, each epoch reads the files again."
    )


def make_dataset(
    paths: Sequence[str],
    labels: Sequence[int] | None = None,
    *,
    image_size: int,
    batch_size: int,
    shuffle_buffer: int = 0,
    cache: bool = False,
    seed: int = 0,
    bad_images: str = "stop",
    whole_batches: bool = False,
) -> tf.data.Dataset:
    """Batches of images (and one-hot labels when given) read from `paths`.

    They come in order, or shuffled if shuffle_buffer > 0; with `whole_batches`, the last
    images that do not fill a batch are left out. A file that cannot be an image is
    reported by name on stderr and left out (bad_images="skip"), or stops the pipeline with an
    error naming it ("stop"; always so without labels, where leaving an image out would misalign
    predictions and ids).
    """
    if bad_images not in BAD_IMAGE_MODES:
        raise ValueError(f"bad_images={bad_images!r}: choose one of {', '.join(BAD_IMAGE_MODES)}")
    if labels is None:
        dataset = _unlabelled_images(paths, image_size)
    else:
        dataset = _labelled_images(paths, labels, image_size, bad_images)
    if cache:
        dataset = dataset.cache()
    if shuffle_buffer > 0:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    # Augmentation is not here but in the model (see modeling.models): its random ops are stateful,
    # and under op determinism TensorFlow would rewrite a cached, shuffled pipeline holding them.
    batches = dataset.batch(batch_size, drop_remainder=whole_batches)
    return with_fixed_parallelism(batches.prefetch(AUTOTUNE))


def load_images(paths: Sequence[str], image_size: int, batch_size: int = 64) -> np.ndarray:
    """Images as uint8 [n, size, size, 3], decoded and resized as for training (`make_dataset`)."""
    dataset = make_dataset(
        [str(path) for path in paths], image_size=image_size, batch_size=batch_size
    )
    batches = list(dataset.as_numpy_iterator())
    return (
        np.concatenate(batches) if batches else np.zeros((0, image_size, image_size, 3), np.uint8)
    )


def with_fixed_parallelism(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """The dataset run without tf.data's autotuner: AUTOTUNE stages use every core from the start.

    On 2 cores the autotuner has little to choose, yet it started short pipelines (a prediction
    call, a first epoch) below full parallelism, and its thread sometimes held up an iterator's
    deletion by up to a second (docs/history.md).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
