"""Loading a saved model: the one loader of the notebooks and the commands, with clear errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import keras

from helpers.config import project_root
from helpers.errors import UserError, first_line

TRAIN_HINT = (
    "train one with notebook 03_train_cnn or `make run-all` "
    "(or give another model file with MODEL_FILE=... / --model)"
)


class ModelFileError(UserError, ValueError):
    """The model file is missing or cannot be loaded as a Keras model."""


def default_model_file() -> Path:
    """The newest run's model: runs/latest/model.keras under the project root."""
    return project_root() / "runs" / "latest" / "model.keras"


def load_trained_model(path: Path) -> keras.Model:
    """The Keras model saved at `path` (a .keras file), or a ModelFileError saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no model file at {path}: {TRAIN_HINT}.")
    if path.is_dir():
        raise ModelFileError(
            f"{path} is a folder, not a model file: give the path of a .keras file."
        )
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is not a Keras model file (a .keras file is a zip archive, as model.save "
            f"writes it): give the model.keras of a run, or {TRAIN_HINT}."
        )
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
