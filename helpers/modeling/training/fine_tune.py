"""Two-phase training of a pretrained backbone, as the keras.io transfer-learning guide teaches it.

Phase 1 trains the new head on the frozen backbone for `epochs`. Phase 2 unfreezes the backbone's
top layers (batch normalization stays frozen, so in inference mode) and fine-tunes for
`fine_tune_epochs` at the much lower `fine_tune_learning_rate`, from phase 1's best epoch.

One history.csv covers both phases (its `phase` column says which); epochs are numbered across
them. Either phase resumes after an interruption: within a phase, BackupAndRestore; between
them, checkpoints/phases.json (RunPaths.phases) records that phase 1 is done (removed once
training completes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import warnings
from collections.abc import Iterator

import helpers.quiet_tensorflow  # noqa: F401

import keras
import pandas as pd
import tensorflow as tf

from helpers.artifacts import RunPaths
from helpers.config import Config
from helpers.modeling.networks import fine_tune_layer_count, set_phase
from helpers.modeling.training.callbacks import PhaseLog, PhaseOneDone, TimeBudget, make_callbacks
from helpers.modeling.training.fit import fit_epochs, fit_then_save, history_to_continue
from helpers.modeling.training.model import inference_network
from helpers.modeling.training.optimizer import compile_model, make_optimizer


def phase_callbacks(
    cfg: Config, run: RunPaths, phase: int, resuming: bool | None
) -> list[keras.callbacks.Callback]:
    """The usual callbacks, the phase logged, phase 1's end recorded before BackupAndRestore."""
    # No steps_per_epoch: a backbone's phases never follow the time-budgeted schedule.
    callbacks = [
        PhaseLog(phase),
        *make_callbacks(cfg, run, None, history_to_continue(run, resuming)),
    ]
    if phase == 1:
        budget = next((c for c in callbacks if isinstance(c, TimeBudget)), None)
        backup = next(
            i for i, c in enumerate(callbacks) if isinstance(c, keras.callbacks.BackupAndRestore)
        )
        callbacks.insert(backup, PhaseOneDone(cfg, run, budget))
    return callbacks


def fine_tune_optimizer(cfg: Config) -> keras.optimizers.Optimizer:
    """Phase 2's optimizer: cfg.model's, at the constant fine_tune_learning_rate (halved on plateaus
    with lr_schedule=plateau)."""
    return make_optimizer(
        dataclasses.replace(cfg, learning_rate=cfg.fine_tune_learning_rate, lr_schedule="plateau")
    )


@contextlib.contextmanager
def other_phase_optimizer_ignored() -> Iterator[None]:
    """Load the best checkpoint quietly when it holds the other phase's optimizer state.

    The checkpoint keeps the optimizer of the phase that wrote it; the other phase's optimizer has
    a different number of variables, and only the network's weights are wanted here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        yield


def train_in_two_phases(
    cfg: Config,
    run: RunPaths,
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
) -> pd.DataFrame:
    """Train the head, fine-tune the backbone's top, save the best epoch's network; the history."""
    network = inference_network(model)
    state_path = run.phases

    def fit() -> None:
        if not state_path.is_file():
            print(f"Phase 1: the new head on the frozen backbone, {cfg.epochs} epochs")
            set_phase(network, 1)
            callbacks = phase_callbacks(cfg, run, 1, None)
            fit_epochs(model, train_ds, val_ds, callbacks, epochs=cfg.epochs)
        state = json.loads(state_path.read_text())
        if state["fine_tune"]:
            _fine_tune(cfg, run, model, train_ds, val_ds, int(state["head_epochs"]))

    with other_phase_optimizer_ignored():
        # The phase record goes once the network is saved: a re-run then starts afresh.
        return fit_then_save(run, model, fit, leftovers=[state_path])


def _fine_tune(
    cfg: Config,
    run: RunPaths,
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    start: int,
) -> None:
    """Phase 2: the backbone's top layers trained with the head, from phase 1's best epoch."""
    network = inference_network(model)
    layers = fine_tune_layer_count(network, cfg)
    print(
        f"Phase 2: fine-tuning the backbone's top {layers} layers at learning rate "
        f"{cfg.fine_tune_learning_rate:g}, {cfg.fine_tune_epochs} epochs"
    )
    with other_phase_optimizer_ignored():
        # From phase 1's best epoch; a phase-2 backup wins later.
        model.load_weights(run.checkpoint)
    set_phase(network, 2, layers)
    compile_model(model, fine_tune_optimizer(cfg))
    callbacks = phase_callbacks(cfg, run, 2, resuming=True)
    fit_epochs(
        model,
        train_ds,
        val_ds,
        callbacks,
        epochs=start + cfg.fine_tune_epochs,
        initial_epoch=start,
    )
