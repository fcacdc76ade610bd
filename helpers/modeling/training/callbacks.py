"""The training callbacks, each a small class, and the list a training uses (`make_callbacks`).

Three of them need the time spent training, across resumptions: they share one clock,
`TrainingClock`. `BudgetedCosine` is the time-budgeted learning-rate schedule (the epoch-planned
one is a Keras schedule: helpers.modeling.training.optimizer).
"""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import keras
import pandas as pd

from helpers.artifacts import RunPaths, atomic_write, write_json
from helpers.config import Config
from helpers.modeling.training.optimizer import budgeted
from helpers.modeling.training.resizing import ProgressiveResizing, training_sizes


class TrainingClock(keras.callbacks.Callback):
    """Seconds of training so far, across resumptions: `already_elapsed` before this fit began."""

    def __init__(self, already_elapsed: float = 0.0) -> None:
        super().__init__()
        self.already_elapsed = already_elapsed
        self.start = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def elapsed_s(self) -> float:
        """Seconds of training so far, across resumptions."""
        return self.already_elapsed + time.perf_counter() - self.start


class WallClock(TrainingClock):
    """Adds `elapsed_s`, seconds since training began (across resumptions), to each epoch's logs."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["elapsed_s"] = round(self.elapsed_s(), 3)


class TimeBudget(TrainingClock):
    """Stops training once too little of `minutes` is left for another epoch.

    It stops after the epoch that leaves less time than the longest epoch so far.
    """

    def __init__(self, minutes: float, already_elapsed: float = 0.0) -> None:
        super().__init__(already_elapsed)
        self.budget_s = minutes * 60.0
        self.longest_epoch_s = 0.0
        self.stopped_epoch: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self.epoch_start = self.start

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.longest_epoch_s = max(self.longest_epoch_s, time.perf_counter() - self.epoch_start)
        if self.elapsed_s() + self.longest_epoch_s > self.budget_s:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True
            print(
                f"train_minutes={self.budget_s / 60:g}: stopping after epoch {epoch + 1}, "
                "too little time is left for another"
            )


class BudgetedCosine(TrainingClock):
    """Warm-up, then cosine decay to 0 over the run's progress; training stops at progress 1.

    Progress is the larger of the share of the planned steps (epochs x steps_per_epoch) done and
    the share of the time budget spent. On a fast machine the budget buys more epochs (up to
    `epochs`); a slow one still anneals to zero by the deadline, instead of having an epoch-planned
    schedule cut short. The learning rate is set before every batch.
    """

    def __init__(
        self,
        peak: float,
        steps_per_epoch: int,
        epochs: int,
        warmup_epochs: int,
        minutes: float,
        already_elapsed: float = 0.0,
    ) -> None:
        super().__init__(already_elapsed)
        self.peak = peak
        self.total_steps = max(1, epochs * steps_per_epoch)
        # At least one epoch of decay, as with the epoch-planned schedule.
        self.warmup_steps = min(warmup_epochs, epochs - 1) * steps_per_epoch
        self.budget_s = minutes * 60.0
        self.stopped_at: int | None = None  # the step at which the schedule ended training

    def progress(self, step: int) -> float:
        """The run's progress at `step`, from 0 to 1 (or more, past the end)."""
        return max(step / self.total_steps, self.elapsed_s() / self.budget_s)

    def rate(self, step: int) -> float:
        """The learning rate at `step` now: the warm-up ramp times the cosine of the progress."""
        warm = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps else 1.0
        return self.peak * warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, self.progress(step))))

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.model.optimizer.learning_rate = self.rate(int(self.model.optimizer.iterations))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        step = int(self.model.optimizer.iterations)
        if self.progress(step) >= 1.0:
            self.model.optimizer.learning_rate = 0.0  # annealed: where the schedule ends
            self.model.stop_training = True  # Keras still validates this last, partial epoch
            self.stopped_at = step

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        if self.stopped_at is not None and self.elapsed_s() >= self.budget_s:
            print(
                f"train_minutes={self.budget_s / 60:g}: the learning rate reached 0 at the time "
                f"budget, in epoch {epoch + 1}"
            )


class PhaseLog(keras.callbacks.Callback):
    """Adds `phase` (1: the head, 2: fine-tuning) to each epoch's logs, and so to history.csv."""

    def __init__(self, phase: int) -> None:
        super().__init__()
        self.phase = phase

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["phase"] = self.phase


class PhaseOneDone(keras.callbacks.Callback):
    """Records that phase 1 ended, and whether phase 2 follows, before its backup is deleted."""

    def __init__(self, cfg: Config, run: RunPaths, budget: TimeBudget | None) -> None:
        super().__init__()
        self.cfg, self.run, self.budget = cfg, run, budget

    def on_train_end(self, logs: dict | None = None) -> None:
        head_epochs = len(pd.read_csv(self.run.history)) if self.run.history.is_file() else 0
        out_of_time = self.budget is not None and self.budget.stopped_epoch is not None
        if out_of_time:
            print(f"train_minutes={self.cfg.train_minutes:g} spent in phase 1: no fine-tuning")
        fine_tune = self.cfg.fine_tune_epochs > 0 and not out_of_time
        write_json({"head_epochs": head_epochs, "fine_tune": fine_tune}, self.run.phases)


def _staging(path: Path, suffix: str) -> Path:
    """A hidden file beside `path` that Keras writes in place of it: `.<stem>.writing<suffix>`."""
    return path.with_name(f".{path.name.removesuffix(suffix)}.writing{suffix}")


class BestWeights(keras.callbacks.ModelCheckpoint):
    """ModelCheckpoint of the best epoch's weights, never seen half-written under its name.

    Keras saves in place; here it saves to a staging file beside, moved into place once whole, so
    a kill or a full disk mid-save leaves the previous best epoch's weights as they were.
    """

    def __init__(self, path: Path, **kwargs) -> None:
        self.path = Path(path)
        self.staging = _staging(self.path, ".weights.h5")
        super().__init__(str(self.staging), save_weights_only=True, **kwargs)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.staging.unlink(missing_ok=True)  # cut short by an interruption
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if self.staging.exists():  # saved this epoch
            os.replace(self.staging, self.path)


class HistoryFile(keras.callbacks.CSVLogger):
    """CSVLogger (appending) whose file is never seen with a row cut short.

    Keras appends to the file it writes: here it appends to a staging copy, which replaces the
    history file whole after each epoch.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.staging = _staging(self.path, ".csv")
        super().__init__(str(self.staging), append=True)

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.path.exists():
            shutil.copyfile(self.path, self.staging)
        else:
            self.staging.unlink(missing_ok=True)
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)  # the row is written and flushed
        atomic_write(self.path, lambda tmp: shutil.copyfile(self.staging, tmp))

    def on_train_end(self, logs: dict | None = None) -> None:
        super().on_train_end(logs)
        self.staging.unlink(missing_ok=True)


def make_callbacks(
    cfg: Config,
    run: RunPaths,
    steps_per_epoch: int | None,
    previous: pd.DataFrame | None = None,
) -> list[keras.callbacks.Callback]:
    """The training callbacks.

    Wall clock, best-model checkpoint, early stopping and LR reduction on plateau (plateau schedule
    only), the time budget (if set: BudgetedCosine with the cosine schedule, which needs
    `steps_per_epoch`, else TimeBudget), progressive resizing (cfg.start_image_size), CSV
    history, TensorBoard logs, backup and restore.
    `previous`: the history of the unfinished training this one continues (helpers.modeling.
    training.fit.history_to_continue), whose best validation loss and time spent carry over.
    """
    run.checkpoint.parent.mkdir(parents=True, exist_ok=True)
    previous = previous if previous is not None and len(previous) else None
    elapsed = float(previous["elapsed_s"].max()) if previous is not None else 0.0
    callbacks: list[keras.callbacks.Callback] = [
        WallClock(elapsed),
        BestWeights(
            run.checkpoint,
            monitor="val_loss",
            save_best_only=True,
            initial_value_threshold=float(previous["val_loss"].min())
            if previous is not None
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

    def progress(epoch: int) -> float:
        """How far the run is as `epoch` begins: by the time budget's schedule, else the epochs."""
        return cosine.progress(epoch * steps_per_epoch) if cosine else epoch / cfg.epochs

    cosine: BudgetedCosine | None = None
    if budgeted(cfg):
        if not steps_per_epoch:
            raise ValueError("the time-budgeted cosine schedule needs steps_per_epoch")
        cosine = BudgetedCosine(
            cfg.learning_rate,
            steps_per_epoch,
            cfg.epochs,
            cfg.warmup_epochs,
            cfg.train_minutes,
            elapsed,
        )
        callbacks.append(cosine)
    elif cfg.train_minutes is not None:
        callbacks.append(TimeBudget(cfg.train_minutes, elapsed))
    sizes = training_sizes(cfg)
    if len(sizes) > 1:
        callbacks.append(ProgressiveResizing(sizes, progress))  # before HistoryFile: it logs
    return callbacks + [
        HistoryFile(run.history),
        # Epoch scalars only (loss, accuracy, learning rate): no histograms, graph or profiling,
        # whose cost would show in a 2-core training step. `make tensorboard` serves them.
        keras.callbacks.TensorBoard(
            str(run.tensorboard),
            histogram_freq=0,
            write_graph=False,
            update_freq="epoch",
            profile_batch=0,
        ),
        # Two states kept: when a kill or a full disk cuts the latest short, the one before it
        # resumes the training (helpers.modeling.training.backup).
        keras.callbacks.BackupAndRestore(str(run.backup_dir), double_checkpoint=True),
    ]
