"""The optimizer: each network's own, at the configured learning rate or schedule, compiled in."""

from __future__ import annotations

import helpers.quiet_tensorflow  # noqa: F401

import keras

from helpers.config import Config
from helpers.modeling.networks import BACKBONES, model_spec


def budgeted(cfg: Config) -> bool:
    """Whether the learning rate follows the time budget (BudgetedCosine, set while training).

    So it does with the cosine schedule and train_minutes set, for the networks trained from
    scratch; a pretrained backbone's two phases have rates of their own.
    """
    return (
        cfg.lr_schedule == "cosine" and cfg.train_minutes is not None and cfg.model not in BACKBONES
    )


def learning_rate_schedule(
    cfg: Config, steps_per_epoch: int | None
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate: constant (lr_schedule "plateau") or a warm-up, then cosine decay to 0.

    With a time budget the rate starts constant: BudgetedCosine sets it before every batch.
    """
    if cfg.lr_schedule == "plateau" or budgeted(cfg):
        return cfg.learning_rate
    if not steps_per_epoch or steps_per_epoch < 1:
        raise ValueError(
            "the cosine learning-rate schedule needs steps_per_epoch: "
            "pass build_model(cfg, steps_per_epoch)"
        )
    # At least one epoch of decay: a one-epoch run (EPOCHS=1) has no warm-up.
    warmup_steps = min(cfg.warmup_epochs, cfg.epochs - 1) * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else cfg.learning_rate,
        decay_steps=cfg.epochs * steps_per_epoch - warmup_steps,
        warmup_target=cfg.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def make_optimizer(cfg: Config, steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
    """cfg.model's optimizer with the configured learning rate (or schedule) and weight decay."""
    rate = learning_rate_schedule(cfg, steps_per_epoch)
    if model_spec(cfg.model).optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    return keras.optimizers.AdamW(rate, weight_decay=cfg.weight_decay)


def compile_model(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> keras.Model:
    """Compile `model` with `optimizer`, categorical cross-entropy and accuracy."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model
