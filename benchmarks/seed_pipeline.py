"""The seed article's input path: Keras 2's `ImageDataGenerator.flow_from_dataframe` (tf-keras)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# The seed's augmentation, as it passed it to ImageDataGenerator.
SEED_AUGMENTATION: dict[str, Any] = {
    "rotation_range": 15,
    "rescale": 1.0 / 255,
    "shear_range": 0.1,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
}


def _image_data_generator(**kwargs: Any) -> Any:
    """A legacy `ImageDataGenerator`, or a clear error saying how to install `tf-keras`."""
    try:
        from tf_keras.preprocessing.image import ImageDataGenerator
    except ImportError:
        raise ImportError(
            "the seed's pipeline needs the legacy tf-keras package and scipy: run `make bench`, "
            "which installs them into .venv "
            "(pip install --no-deps 'tf-keras==<your TensorFlow minor>.*' scipy)"
        ) from None
    return ImageDataGenerator(**kwargs)


def seed_train_iterator(
    filenames: list[str],
    categories: list[str],
    directory: Path,
    image_size: int,
    batch_size: int,
    seed: int = 0,
) -> Any:
    """The seed's training iterator.

    Augmented, shuffled batches of (images in [0, 1], one-hot labels).
    """
    frame = pd.DataFrame({"filename": filenames, "category": categories})
    return _image_data_generator(**SEED_AUGMENTATION).flow_from_dataframe(
        frame,
        str(directory),
        x_col="filename",
        y_col="category",
        target_size=(image_size, image_size),
        class_mode="categorical",
        batch_size=batch_size,
        seed=seed,
    )


def seed_test_iterator(
    filenames: list[str], directory: Path, image_size: int, batch_size: int
) -> Any:
    """The seed's prediction iterator: rescaled images in file order, no labels."""
    frame = pd.DataFrame({"filename": filenames})
    return _image_data_generator(rescale=1.0 / 255).flow_from_dataframe(
        frame,
        str(directory),
        x_col="filename",
        y_col=None,
        class_mode=None,
        target_size=(image_size, image_size),
        batch_size=batch_size,
        shuffle=False,
    )


def batches(iterator: Any, steps: int) -> Iterator[Any]:
    """The next `steps` batches of a legacy iterator as tuples, which Keras 3 takes.

    The iterator reshuffles at each of its epochs.
    """
    for _ in range(steps):
        batch = next(iterator)
        yield (
            tuple(np.asarray(part) for part in batch)
            if isinstance(batch, tuple)
            else (np.asarray(batch),)
        )
