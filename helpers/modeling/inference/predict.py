"""Prediction with a saved model: P(dog) for image files, with the test-time views, as tables.

Every image goes through the training pipeline's decode and resize (helpers.pipeline), so a
prediction of `make predict` equals the notebooks' for the same file. Each function predicts each
image alone unless asked for the test-time views (`flip`, `zoom`), as the recipe's
test_time_flip and test_time_zoom ask for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers.artifacts import RunPaths
from helpers.config import Config
from helpers.dataset import image_paths, load_dataset_index, load_split
from helpers.errors import UserError, first_line
from helpers.layout import CLASS_NAMES, DOG_LABEL, DOG_THRESHOLD
from helpers.pipeline import make_dataset


class PredictError(UserError, ValueError):
    """Bad input to prediction: no images, a file in the way, an image that fails to decode."""


def predict_dog_probability(
    model: keras.Model,
    paths: Sequence[str],
    *,
    batch_size: int = 64,
    flip: bool = False,
    zoom: float = 1.0,
) -> np.ndarray:
    """P(dog) for each image path, at the input size the model was trained with.

    With `flip`, each image's probability is averaged with its mirror image's. With `zoom` > 1,
    also with its centre: the image read at zoom × that size and cropped back to it.
    """
    image_size = int(model.input_shape[1])
    if not paths:
        return np.zeros(0, dtype="float64")
    model = flip_averaged(model) if flip else model
    views = [make_dataset(paths, image_size=image_size, batch_size=batch_size)]
    margin = (round(image_size * zoom) - image_size) // 2  # 0: a zoom too small to change a pixel
    if margin > 0:
        views.append(
            make_dataset(paths, image_size=image_size + 2 * margin, batch_size=batch_size).map(
                lambda images: images[:, margin : margin + image_size, margin : margin + image_size]
            )
        )
    # One compiled call per batch: model.predict's per-call set-up (data adapter, callbacks, an
    # iterator of its own) costs more than the whole of a short job (docs/history.md).
    probabilities = np.mean(
        [
            np.concatenate([np.asarray(model.predict_on_batch(images)) for images in view])
            for view in views
        ],
        axis=0,
    )
    return probabilities[:, DOG_LABEL].astype("float64")


def predictions_frame(ids: Sequence[int], dog_probability: np.ndarray) -> pd.DataFrame:
    """Per-image predictions, sorted by id.

    Columns: `id`, `dog_probability`, `label` (1 = dog, 0 = cat), `confidence`.
    """
    frame = pd.DataFrame({"id": np.asarray(ids, dtype="int64"), "dog_probability": dog_probability})
    frame["label"] = (frame["dog_probability"] >= DOG_THRESHOLD).astype("int64")
    frame["confidence"] = np.where(
        frame["label"] == 1, frame["dog_probability"], 1 - frame["dog_probability"]
    )
    return frame.sort_values("id", ignore_index=True)


def flip_averaged(model: keras.Model) -> keras.Model:
    """Test-time augmentation: the model's probabilities averaged over each image and its mirror."""
    inputs = keras.Input(model.input_shape[1:], name="image")
    mirrored = keras.layers.Lambda(lambda x: keras.ops.flip(x, axis=2), name="mirror")(inputs)
    averaged = keras.layers.Average(name="average")([model(inputs), model(mirrored)])
    return keras.Model(inputs, averaged, name=f"{model.name}_flip_averaged")


def predict_images(
    model: keras.Model,
    ids: Sequence[int],
    paths: Sequence[str],
    *,
    batch_size: int = 64,
    flip: bool = False,
    zoom: float = 1.0,
) -> pd.DataFrame:
    """The model's predictions for the images at `paths`, one row per id (see predictions_frame).

    `flip` and `zoom` add test-time views, as in predict_dog_probability.
    """
    probability = predict_dog_probability(
        model, list(paths), batch_size=batch_size, flip=flip, zoom=zoom
    )
    return predictions_frame(ids, probability)


def predict_validation(cfg: Config, run: RunPaths, model: keras.Model) -> pd.DataFrame:
    """The run's validation images with the model's `dog_probability`, `confidence`, `predicted`."""
    split = load_split(cfg, run, load_dataset_index(cfg, run))
    val = split.query("subset == 'val'").reset_index(drop=True)
    paths = image_paths(cfg, val["filename"])
    predictions = predict_images(
        model, val.index, paths, flip=cfg.test_time_flip, zoom=cfg.test_time_zoom
    )
    return val.join(predictions[["dog_probability", "confidence"]]).assign(
        predicted=predictions["label"]
    )


def predict_files(
    model: keras.Model,
    paths: Sequence[Path],
    *,
    batch_size: int = 64,
    flip: bool = False,
    zoom: float = 1.0,
) -> pd.DataFrame:
    """Per image: `file`, `label` (cat or dog), `dog_probability`, as the notebooks predict.

    `flip` and `zoom` add test-time views, as in predict_dog_probability.
    """
    try:
        dog = predict_dog_probability(
            model, [str(path) for path in paths], batch_size=batch_size, flip=flip, zoom=zoom
        )
    except tf.errors.OpError as error:  # a file that passed the checks and still failed to decode
        raise PredictError(f"prediction failed: {first_line(error)}") from None
    labels = [CLASS_NAMES[int(p >= DOG_THRESHOLD)] for p in dog]
    return pd.DataFrame(
        {"file": [str(path) for path in paths], "label": labels, "dog_probability": dog}
    )
