"""The Kaggle submission, and scores of predictions against known labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, log_loss

from helpers.artifacts import write_csv


def make_submission(predictions: pd.DataFrame) -> pd.DataFrame:
    """The Kaggle submission: columns `id,label`, 1 = dog, 0 = cat, sorted by numeric id."""
    return predictions[["id", "label"]].sort_values("id", ignore_index=True)


def write_submission(predictions: pd.DataFrame, path: Path) -> Path:
    """Write the submission CSV atomically."""
    return write_csv(make_submission(predictions), path)


def score_predictions(predictions: pd.DataFrame, true_labels: pd.Series) -> dict[str, float]:
    """Accuracy and log loss of predictions against the true labels by id (`read_labels`)."""
    truth = predictions["id"].map(true_labels)
    if truth.isna().any():
        missing = sorted(predictions.loc[truth.isna(), "id"])
        raise ValueError(
            f"the labels file has no label for {len(missing)} predicted images "
            f"(for example id {missing[0]})"
        )
    truth = truth.astype("int64")
    return {
        "n_images": int(len(predictions)),
        "accuracy": float(accuracy_score(truth, predictions["label"])),
        "log_loss": float(log_loss(truth, predictions["dog_probability"], labels=[0, 1])),
    }
