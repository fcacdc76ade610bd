"""Finding and loading a saved model file for the command-line tools, with clear errors."""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import keras

from helpers.config import project_root
from helpers.errors import UserError

TRAIN_HINT = (
    "train one with `make run-all` (or give another model file with MODEL_FILE=... / --model)"
)


class ModelFileError(UserError, ValueError):
    """The model file is missing or cannot be loaded as a Keras model."""


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The command-line tools' --model option: a .keras file, by default the newest run's."""
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the .keras model file (default: runs/latest/model.keras)",
    )


def default_model_file() -> Path:
    """The newest run's model: runs/latest/model.keras under the project root."""
    return project_root() / "runs" / "latest" / "model.keras"


def load_model_file(path: Path) -> keras.Model:
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
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"{path} could not be loaded as a Keras model: {reason}") from None


def input_size(model: keras.Model) -> int:
    """The square image size, in pixels, that the model takes."""
    shape = model.input_shape
    if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3 or shape[1] is None:
        raise ModelFileError(
            f"model {model.name} takes inputs of shape {shape}, not square RGB images"
        )
    return int(shape[1])
