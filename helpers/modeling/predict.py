"""Prediction with a saved model, the Kaggle submission, and scores against known labels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss

from helpers.artifacts import write_csv
from helpers.dataset import CLASS_NAMES
from helpers.pipeline import make_dataset


def load_model(path: Path) -> keras.Model:
    """The saved Keras model, with a clear error when it is missing."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist: run notebook 03_train_cnn to train and save a model.")
    return keras.models.load_model(path)


def predict_dog_probability(model: keras.Model, paths: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """P(dog) for each image path, at the input size the model was trained with."""
    image_size = int(model.input_shape[1])
    dataset = make_dataset(paths, image_size=image_size, batch_size=batch_size)
    probabilities = model.predict(dataset, verbose=0)
    return probabilities[:, CLASS_NAMES.index("dog")].astype("float64")


def predictions_frame(ids: Sequence[int], dog_probability: np.ndarray) -> pd.DataFrame:
    """Per-image predictions: `id`, `dog_probability`, `label` (1 = dog, 0 = cat), `confidence`, sorted by id."""
    frame = pd.DataFrame({"id": np.asarray(ids, dtype="int64"), "dog_probability": dog_probability})
    frame["label"] = (frame["dog_probability"] >= 0.5).astype("int64")
    frame["confidence"] = np.where(frame["label"] == 1, frame["dog_probability"], 1 - frame["dog_probability"])
    return frame.sort_values("id", ignore_index=True)


def make_submission(predictions: pd.DataFrame) -> pd.DataFrame:
    """The Kaggle submission: columns `id,label`, 1 = dog, 0 = cat, sorted by numeric id."""
    return predictions[["id", "label"]].sort_values("id", ignore_index=True)


def write_submission(predictions: pd.DataFrame, path: Path) -> Path:
    """Write the submission CSV atomically."""
    return write_csv(make_submission(predictions), path)


def score_predictions(predictions: pd.DataFrame, true_labels: pd.DataFrame) -> dict[str, float]:
    """Accuracy and log loss of predictions against true labels matched by id."""
    merged = predictions.merge(true_labels, on="id", how="inner", suffixes=("_pred", ""))
    if len(merged) != len(predictions):
        missing = sorted(set(predictions["id"]) - set(true_labels["id"]))
        raise ValueError(
            f"the labels file has no label for {len(missing)} predicted images (for example id {missing[0]})"
        )
    return {
        "n_images": int(len(merged)),
        "accuracy": float(accuracy_score(merged["label"], merged["label_pred"])),
        "log_loss": float(log_loss(merged["label"], merged["dog_probability"], labels=[0, 1])),
    }
