"""A run's training history (history.csv, written by Keras's CSVLogger): read it, find the best
epoch. Training writes it; the notebooks and the figures only read it."""

from __future__ import annotations

import pandas as pd

from helpers.artifacts import RunPaths, require


def load_history(run: RunPaths) -> pd.DataFrame:
    """The training history saved in the run folder, with a 1-based `epoch` column."""
    history = pd.read_csv(require(run.history, "03_train_cnn"))
    history["epoch"] = history["epoch"] + 1
    return history


def best_epoch(history: pd.DataFrame) -> pd.Series:
    """The history row of the epoch with the lowest validation loss (the saved model)."""
    return history.loc[history["val_loss"].idxmin()]
