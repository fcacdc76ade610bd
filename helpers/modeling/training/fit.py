"""The fit loop both trainings share: continue or start the history, fit, save the best network."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import keras
import pandas as pd
import tensorflow as tf

from helpers.artifacts import (
    DamagedRunFileError,
    RunPaths,
    atomic_write,
    point_latest_at,
    write_text,
)
from helpers.errors import first_line
from helpers.history import cut_history, load_history, read_history
from helpers.modeling.training.backup import backed_up_epochs
from helpers.modeling.training.devices import lost_process
from helpers.modeling.training.model import inference_network


def history_to_continue(run: RunPaths, resuming: bool | None = None) -> pd.DataFrame | None:
    """The history of the unfinished training in the run folder, to continue; None to start afresh.

    `resuming` None: continue when a backup of an unfinished training is there. Starting afresh
    removes the history of a finished earlier training in the folder, so that the new one's
    history.csv holds its own epochs only.
    """
    if resuming is None:
        resuming = run.backup_dir.exists() and run.history.is_file()
    if resuming:
        return _history_of_the_backup(run)
    run.history.unlink(missing_ok=True)
    return None


def _history_of_the_backup(run: RunPaths) -> pd.DataFrame:
    """The history's rows of the epochs the backup holds; history.csv cut back to them.

    The row of an epoch that ended after the last backup (it is trained again) must go first, as
    must a last line cut short (history files written before HistoryFile replaced them whole).
    """
    epochs = backed_up_epochs(run)
    history, torn = read_history(run.history)
    kept = history if epochs is None else history[history["epoch"] < epochs]
    if torn or len(kept) < len(history):
        cut_history(run.history, len(kept))
        print(
            f"{run.history}: kept its first {len(kept)} epochs, those the training's backup holds "
            "(a line cut short, or an epoch ended after the backup, is left out); the training "
            "resumes from there"
        )
    return kept


def fit_epochs(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    callbacks: list[keras.callbacks.Callback],
    epochs: int,
    initial_epoch: int = 0,
) -> None:
    """model.fit from `initial_epoch` up to `epochs`, printing one line per epoch."""
    with warnings.catch_warnings():
        # Skipping bad images (a filter) leaves the epoch length unknown until the first epoch ends,
        # which Keras announces as "input ran out of data": expected here, not a fault.
        warnings.filterwarnings(
            "ignore", message="Your input ran out of data", category=UserWarning
        )
        try:
            model.fit(
                train_ds,
                validation_data=val_ds,
                epochs=epochs,
                initial_epoch=initial_epoch,
                callbacks=callbacks,
                shuffle=False,  # the dataset shuffles itself, seeded
                verbose=2,
            )
        except Exception as error:
            lost = lost_process(error)
            if lost is None:
                raise
            raise lost from None


def fit_then_save(
    run: RunPaths, model: keras.Model, fit: Callable[[], None], leftovers: Sequence[Path] = ()
) -> pd.DataFrame:
    """Run the training `fit`, save the best epoch's network, delete `leftovers`; the history.

    A training that ended but was interrupted before its network was saved (a kill, a full disk)
    is not run again: its network is saved.
    """
    if run.fit_finished.is_file():
        print(
            f"{run.fit_finished}: the training had ended when it was interrupted; its best "
            "epoch's network is saved now"
        )
    else:
        fit()
        write_text(run.fit_finished, "the training ended; its network is saved next\n")
    history = save_best_network(run, model)
    for path in leftovers:
        path.unlink(missing_ok=True)
    run.fit_finished.unlink()  # last: a re-run now starts a new training
    return history


def save_best_network(run: RunPaths, model: keras.Model) -> pd.DataFrame:
    """Save the best epoch's network (no augmentation) as run.model; return the history.

    runs/latest then points at this run folder: `make predict` and `make export` use its model.
    """
    try:
        model.load_weights(run.checkpoint)
    except (OSError, ValueError) as error:
        raise DamagedRunFileError(
            f"{run.checkpoint}, the best epoch's weights, cannot be loaded ({first_line(error)}). "
            "Delete "
            f"{run.checkpoint.parent} and {run.history.name} to train again, or use a new run "
            "folder (RUN_DIR=...)."
        ) from None
    atomic_write(run.model, lambda tmp: inference_network(model).save(tmp))
    point_latest_at(run)
    return load_history(run)
