"""Budgeted training: a cosine learning rate that anneals to zero at the time budget."""

from __future__ import annotations

import math
import time

import keras


class BudgetedCosine(keras.callbacks.Callback):
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
        super().__init__()
        self.peak = peak
        self.total_steps = max(1, epochs * steps_per_epoch)
        # At least one epoch of decay, as with the epoch-planned schedule.
        self.warmup_steps = min(warmup_epochs, epochs - 1) * steps_per_epoch
        self.budget_s = minutes * 60.0
        self.already_elapsed = already_elapsed
        self.start = time.perf_counter()
        self.stopped_at: int | None = None  # the step at which the schedule ended training

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def elapsed_s(self) -> float:
        """Seconds of training so far, across resumptions."""
        return self.already_elapsed + time.perf_counter() - self.start

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
