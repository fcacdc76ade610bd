"""Loading a saved model: the one loader of the notebooks and the commands, with clear errors.

Which file to load, and whether it can be one, is answered without TensorFlow
(helpers.artifacts.find_model_file, check_model_file).
"""

from __future__ import annotations

from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import keras

from helpers.artifacts import ModelFileError, check_model_file
from helpers.errors import UserError, first_line


class BackendError(UserError, RuntimeError):
    """A saved model read with Keras on another backend than TensorFlow."""

    notebook_hint = (
        "In Lab, only notebook 03 runs on JAX; make run-all starts each notebook's kernel on the "
        "backend it needs."
    )


def load_trained_model(path: Path) -> keras.Model:
    """The Keras model saved at `path` (a .keras file), or a ModelFileError saying what is wrong.

    Read on TensorFlow, whichever backend trained it: the predictions, Grad-CAM and the exports
    feed it TensorFlow tensors.
    """
    if keras.backend.backend() != "tensorflow":
        raise BackendError(
            f"the saved model is read with Keras on TensorFlow, and this process runs Keras on "
            f"{keras.backend.backend()}: run it without KERAS_BACKEND, or with "
            "KERAS_BACKEND=tensorflow"
        )
    path = check_model_file(path)
    try:
        # safe_mode stays on (the default): a file holding Python lambdas is refused, not executed.
        return keras.models.load_model(path)
    except Exception as error:  # Keras raises many types here; the message is what matters
        raise ModelFileError(
            f"{path} could not be loaded as a Keras model: {first_line(error)}"
        ) from None


def input_size(model: keras.Model) -> int:
    """The square image size, in pixels, that the model takes."""
    shape = model.input_shape
    if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3 or shape[1] is None:
        raise ModelFileError(
            f"model {model.name} takes inputs of shape {shape}, not square RGB images"
        )
    return int(shape[1])
