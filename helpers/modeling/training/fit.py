"""The fit loop both trainings share: continue or start the history, fit, save the best network."""

from __future__ import annotations

import json
import warnings

import helpers.quiet_tensorflow  # noqa: F401

import h5py
import keras
import pandas as pd
import tensorflow as tf

from helpers.artifacts import (
    DamagedRunFileError,
    RunPaths,
    atomic_write,
    point_latest_at,
)
from helpers.history import drop_torn_line, load_history, read_history
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
        check_backup(run)
        history, torn = read_history(run.history)
        if torn:
            # CSVLogger appends: the next epoch's row must not be glued to the torn one.
            drop_torn_line(run.history)
            print(
                f"{run.history}: its last line was cut short by the interruption and is left "
                "out; the training resumes from its last backup"
            )
        return history
    run.history.unlink(missing_ok=True)
    return None


BACKUP_REMEDY = (
    "Delete that folder to train again from the first epoch (the run folder's other files stay), "
    "or use a new run folder (RUN_DIR=...)."
)


def check_backup(run: RunPaths) -> None:
    """Each file of an interrupted training's backup can be read; else an error naming it.

    Keras would fail deep inside fit() on a backup cut short by a kill or a full disk.
    """
    for path in sorted(run.backup_dir.rglob("*")):
        try:
            if path.suffix == ".h5":
                h5py.File(path, "r").close()
            elif path.suffix == ".json":
                json.loads(path.read_text())
        except (OSError, ValueError) as error:
            reason = str(error).strip().splitlines()[0]
            raise DamagedRunFileError(
                f"{path}, the backup of the interrupted training in {run.root}, is damaged "
                f"({reason}). {BACKUP_REMEDY.replace('that folder', str(run.backup_dir))}"
            ) from None


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
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            shuffle=False,  # the dataset shuffles itself, seeded
            verbose=2,
        )


def save_best_network(run: RunPaths, model: keras.Model) -> pd.DataFrame:
    """Save the best epoch's network (no augmentation) as run.model; return the history.

    runs/latest then points at this run folder: `make predict` and `make export` use its model.
    """
    try:
        model.load_weights(run.checkpoint)
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0]
        raise DamagedRunFileError(
            f"{run.checkpoint}, the best epoch's weights, cannot be loaded ({reason}). Delete "
            f"{run.checkpoint.parent} and {run.history.name} to train again, or use a new run "
            "folder (RUN_DIR=...)."
        ) from None
    atomic_write(run.model, lambda tmp: inference_network(model).save(tmp))
    point_latest_at(run)
    return load_history(run)
