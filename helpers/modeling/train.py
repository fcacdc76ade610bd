"""Training: datasets from the split, Keras callbacks, fit, and the saved best model and history."""

from __future__ import annotations

import math
import time
import warnings

import keras
import pandas as pd
import tensorflow as tf

from helpers.artifacts import RunPaths, atomic_write, require
from helpers.config import Config
from helpers.dataset import image_paths
from helpers.modeling.backbones import BACKBONES
from helpers.modeling.models import budgeted, inference_network
from helpers.modeling.schedules import BudgetedCosine
from helpers.pipeline import make_dataset


def make_split_datasets(
    cfg: Config, split: pd.DataFrame
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The training dataset (cached, shuffled) and the validation dataset (cached)."""
    train = split[split["subset"] == "train"]
    val = split[split["subset"] == "val"]
    train_ds = make_dataset(
        image_paths(cfg, train["filename"]),
        train["label"].tolist(),
        image_size=cfg.image_size,
        batch_size=cfg.batch_size,
        shuffle_buffer=cfg.shuffle_buffer,
        cache=cfg.cache,
        seed=cfg.seed,
        bad_images=cfg.bad_images,
    )
    val_ds = make_dataset(
        image_paths(cfg, val["filename"]),
        val["label"].tolist(),
        image_size=cfg.image_size,
        batch_size=cfg.batch_size,
        cache=cfg.cache,
        bad_images=cfg.bad_images,
    )
    return train_ds, val_ds


def steps_per_epoch(cfg: Config, split: pd.DataFrame) -> int:
    """Training batches in one epoch over the training side of `split`."""
    return math.ceil(int((split["subset"] == "train").sum()) / cfg.batch_size)


class TimeBudget(keras.callbacks.Callback):
    """Stops training once too little of `minutes` is left for another epoch.

    It stops after the epoch that leaves less time than the longest epoch so far.
    """

    def __init__(self, minutes: float, already_elapsed: float = 0.0) -> None:
        super().__init__()
        self.budget_s = minutes * 60.0
        self.already_elapsed = already_elapsed
        self.longest_epoch_s = 0.0
        self.stopped_epoch: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = self.epoch_start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        self.longest_epoch_s = max(self.longest_epoch_s, now - self.epoch_start)
        if self.already_elapsed + now - self.start + self.longest_epoch_s > self.budget_s:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True
            print(
                f"train_minutes={self.budget_s / 60:g}: stopping after epoch {epoch + 1}, "
                "too little time is left for another"
            )


class WallClock(keras.callbacks.Callback):
    """Adds `elapsed_s`, seconds since training began (across resumptions), to each epoch's logs."""

    def __init__(self, already_elapsed: float = 0.0) -> None:
        super().__init__()
        self.already_elapsed = already_elapsed
        self.start = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["elapsed_s"] = round(self.already_elapsed + time.perf_counter() - self.start, 3)


def make_callbacks(
    cfg: Config, run: RunPaths, resuming: bool | None = None
) -> list[keras.callbacks.Callback]:
    """The training callbacks.

    Wall clock, best-model checkpoint, early stopping and LR reduction on plateau (plateau schedule
    only), the time budget (if set: BudgetedCosine with the cosine schedule, else TimeBudget),
    CSV history, TensorBoard logs, backup and restore. `resuming`: continue the history in the
    run folder; None: when a backup of an unfinished training is there.
    """
    if resuming is None:
        resuming = run.backup_dir.exists() and run.history.is_file()
    previous = pd.read_csv(run.history) if resuming else None
    if not resuming:
        # A finished earlier training in this folder: start afresh.
        run.history.unlink(missing_ok=True)
    run.checkpoint.parent.mkdir(parents=True, exist_ok=True)
    elapsed = float(previous["elapsed_s"].max()) if previous is not None and len(previous) else 0.0
    callbacks: list[keras.callbacks.Callback] = [
        WallClock(elapsed),
        keras.callbacks.ModelCheckpoint(
            str(run.checkpoint),
            monitor="val_loss",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=float(previous["val_loss"].min())
            if previous is not None and len(previous)
            else None,
        ),
    ]
    if cfg.lr_schedule == "plateau":
        # The cosine schedule plans its own end, and its last, low-rate epochs are its best: a
        # validation plateau in mid-schedule (noisy at a high rate) must not cut the annealing.
        callbacks += [
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.early_stopping_patience),
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=cfg.reduce_lr_patience, min_lr=1e-6
            ),
        ]
    if budgeted(cfg):
        split = pd.read_csv(require(run.split, "03_train_cnn"))
        callbacks.append(
            BudgetedCosine(
                cfg.learning_rate,
                steps_per_epoch(cfg, split),
                cfg.epochs,
                cfg.warmup_epochs,
                cfg.train_minutes,
                elapsed,
            )
        )
    elif cfg.train_minutes is not None:
        callbacks.append(TimeBudget(cfg.train_minutes, elapsed))
    return callbacks + [
        keras.callbacks.CSVLogger(str(run.history), append=True),
        # Epoch scalars only (loss, accuracy, learning rate): no histograms, graph or profiling,
        # whose cost would show in a 2-core training step. `make tensorboard` serves them.
        keras.callbacks.TensorBoard(
            str(run.tensorboard),
            histogram_freq=0,
            write_graph=False,
            update_freq="epoch",
            profile_batch=0,
        ),
        keras.callbacks.BackupAndRestore(str(run.backup_dir)),
    ]


def train_model(
    cfg: Config,
    run: RunPaths,
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
) -> pd.DataFrame:
    """Fit `model`, save the best epoch's network (no augmentation) as run.model; the history.

    A pretrained backbone (cfg.model in BACKBONES) trains in two phases: helpers.modeling.fine_tune.
    """
    if cfg.model in BACKBONES:
        from helpers.modeling.fine_tune import train_in_two_phases  # it builds on this module

        return train_in_two_phases(cfg, run, model, train_ds, val_ds)
    fit_epochs(model, train_ds, val_ds, make_callbacks(cfg, run), epochs=cfg.epochs)
    return save_best_network(run, model)


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
    """Save the best epoch's network (no augmentation) as run.model; return the history."""
    model.load_weights(run.checkpoint)
    atomic_write(run.model, lambda tmp: inference_network(model).save(tmp))
    return load_history(run)


def load_history(run: RunPaths) -> pd.DataFrame:
    """The training history saved in the run folder, with a 1-based `epoch` column."""
    history = pd.read_csv(require(run.history, "03_train_cnn"))
    history["epoch"] = history["epoch"] + 1
    return history


def best_epoch(history: pd.DataFrame) -> pd.Series:
    """The history row of the epoch with the lowest validation loss (the saved model)."""
    return history.loc[history["val_loss"].idxmin()]
