"""Budgeted training: the learning rate anneals to zero at the time budget or the last epoch."""

import keras
import numpy as np
import pytest

from helpers.modeling.training import callbacks
from helpers.modeling.training.callbacks import BudgetedCosine


class Clock:
    """A stand-in for time.perf_counter that the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(callbacks.time, "perf_counter", fake)
    return fake


def test_warm_up_then_cosine_over_steps_when_time_is_plentiful(clock):
    schedule = BudgetedCosine(1e-3, steps_per_epoch=10, epochs=4, warmup_epochs=1, minutes=60)
    schedule.on_train_begin()
    assert schedule.rate(0) == pytest.approx(1e-4, rel=0.05)  # the first step of the ramp
    assert schedule.rate(9) == pytest.approx(1e-3 * 0.5 * (1 + np.cos(np.pi * 9 / 40)))
    assert schedule.rate(20) == pytest.approx(0.5e-3)  # half way through the planned steps
    assert schedule.rate(40) == pytest.approx(0.0, abs=1e-12)


def test_the_time_budget_brings_the_end_forward_on_a_slow_machine(clock):
    schedule = BudgetedCosine(1e-3, steps_per_epoch=10, epochs=100, warmup_epochs=1, minutes=10)
    schedule.on_train_begin()
    clock.now += 5 * 60  # half the budget spent after only 20 of 1000 planned steps
    assert schedule.progress(20) == pytest.approx(0.5)
    assert schedule.rate(20) == pytest.approx(0.5e-3)
    clock.now += 5 * 60
    assert schedule.rate(21) == pytest.approx(0.0, abs=1e-12)


def test_a_resumed_run_counts_the_time_already_spent(clock):
    schedule = BudgetedCosine(
        1e-3, steps_per_epoch=10, epochs=100, warmup_epochs=0, minutes=10, already_elapsed=300
    )
    schedule.on_train_begin()
    assert schedule.progress(0) == pytest.approx(0.5)


def test_training_stops_at_the_deadline_and_the_last_epoch_is_validated(clock):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.0), "categorical_crossentropy")
    x, y = np.zeros((40, 3), "float32"), np.eye(2, dtype="float32")[np.arange(40) % 2]
    schedule = BudgetedCosine(0.1, steps_per_epoch=4, epochs=50, warmup_epochs=0, minutes=1)

    class Tick(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.now += 7.0  # 7 s a step: the 60 s budget ends in the 3rd epoch's first step

    history = model.fit(
        x,
        y,
        batch_size=10,
        epochs=50,
        validation_data=(x, y),
        callbacks=[Tick(), schedule],
        verbose=0,
    )
    assert len(history.history["val_loss"]) == 3
    assert int(model.optimizer.iterations) == 9
    assert history.history["learning_rate"][-1] == pytest.approx(0.0, abs=1e-3)
