"""Training: datasets from the split, then fit with the callbacks and keep the best epoch.

A network trained from scratch fits once; a pretrained backbone in two phases
(helpers.modeling.training.fine_tune).
"""

from __future__ import annotations

import math

import helpers.quiet_tensorflow  # noqa: F401

import keras
import pandas as pd
import tensorflow as tf

from helpers.artifacts import RunPaths
from helpers.config import Config
from helpers.dataset import image_paths
from helpers.modeling.networks import BACKBONES
from helpers.modeling.training.callbacks import make_callbacks
from helpers.modeling.training.devices import whole_batches
from helpers.modeling.training.fine_tune import train_in_two_phases
from helpers.modeling.training.fit import fit_epochs, fit_then_save, history_to_continue
from helpers.pipeline import cache_refused, make_dataset
from helpers.provenance import check_made_with, record_made_with


def make_split_datasets(
    cfg: Config, split: pd.DataFrame
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The training dataset (cached, shuffled) and the validation dataset (cached).

    With distribute="data_parallel" both come in whole batches, which split evenly between the
    devices: up to batch_size - 1 photos of each side are left out of an epoch.
    """
    train = split[split["subset"] == "train"]
    val = split[split["subset"] == "val"]
    refused = cache_refused(len(split), cfg.image_size) if cfg.cache else None
    if refused:
        print(refused)
    cache = cfg.cache and not refused
    train_ds = make_dataset(
        image_paths(cfg, train["filename"]),
        train["label"].tolist(),
        image_size=cfg.image_size,
        batch_size=cfg.batch_size,
        shuffle_buffer=cfg.shuffle_buffer,
        cache=cache,
        seed=cfg.seed,
        bad_images=cfg.bad_images,
        whole_batches=whole_batches(cfg),
    )
    val_ds = make_dataset(
        image_paths(cfg, val["filename"]),
        val["label"].tolist(),
        image_size=cfg.image_size,
        batch_size=cfg.batch_size,
        cache=cache,
        bad_images=cfg.bad_images,
        whole_batches=whole_batches(cfg),
    )
    return train_ds, val_ds


def steps_per_epoch(cfg: Config, split: pd.DataFrame) -> int:
    """Training batches in one epoch over the training side of `split`."""
    images = int((split["subset"] == "train").sum())
    if whole_batches(cfg):
        return images // cfg.batch_size
    return math.ceil(images / cfg.batch_size)


def train_model(
    cfg: Config,
    run: RunPaths,
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    steps_per_epoch: int,
) -> pd.DataFrame:
    """Fit `model`, save the best epoch's network (no augmentation) as run.model; the history.

    `steps_per_epoch`: the training batches in an epoch, which the time-budgeted schedule plans
    with. A pretrained backbone (cfg.model in BACKBONES) trains in two phases.
    """
    check_made_with(cfg, run, "training")  # resume only what these settings began
    record_made_with(cfg, run, "training")
    if cfg.model in BACKBONES:
        return train_in_two_phases(cfg, run, model, train_ds, val_ds)

    def fit() -> None:
        callbacks = make_callbacks(cfg, run, steps_per_epoch, history_to_continue(run))
        fit_epochs(model, train_ds, val_ds, callbacks, epochs=cfg.epochs)

    return fit_then_save(run, model, fit)
