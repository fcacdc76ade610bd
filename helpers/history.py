"""A run's training history (history.csv, written by Keras's CSVLogger): read it, find the best
epoch. Training writes it; the notebooks and the figures only read it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from helpers.artifacts import DamagedRunFileError, RunPaths, atomic_write, read_run_csv, require

HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "elapsed_s")
HISTORY_REMEDY = (
    "Delete it and the checkpoints/ folder beside it to train again from the first epoch, or use "
    "a new run folder (RUN_DIR=...)."
)


def read_history(path: Path) -> tuple[pd.DataFrame, bool]:
    """The history's rows (Keras's 0-based `epoch`) and whether a last line cut short was left out.

    CSVLogger ends every row with a newline: a file that does not end with one was cut while a
    row was written (a kill, a full disk), and that row alone is left out. Any other gap is an
    error.
    """
    torn = not path.read_bytes().endswith(b"\n")
    history = read_run_csv(path, HISTORY_COLUMNS, HISTORY_REMEDY)
    if torn:
        history = history.iloc[:-1].copy()
    if history[list(HISTORY_COLUMNS)].isna().to_numpy().any():
        raise DamagedRunFileError(
            f"{path} has rows with missing values: it is not the history the series wrote. "
            f"{HISTORY_REMEDY}"
        )
    return history, torn


def cut_history(path: Path, rows: int) -> None:
    """Cut the history file back to its header and first `rows` rows, keeping their bytes."""
    lines = path.read_bytes().splitlines(keepends=True)
    atomic_write(path, lambda tmp: tmp.write_bytes(b"".join(lines[: 1 + rows])))


def load_history(run: RunPaths) -> pd.DataFrame:
    """The training history saved in the run folder, with a 1-based `epoch` column."""
    history, torn = read_history(require(run.history, "03_train_cnn"))
    if torn:
        warnings.warn(
            f"{run.history}: its last line was cut short (the training was interrupted while "
            "writing it) and is left out; run notebook 03 again to resume the training",
            stacklevel=2,
        )
    history["epoch"] = history["epoch"] + 1
    return history


def best_epoch(history: pd.DataFrame) -> pd.Series:
    """The history row of the epoch with the lowest validation loss (the saved model)."""
    return history.loc[history["val_loss"].idxmin()]
