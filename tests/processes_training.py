"""Run as a script, once per process: a few epochs of the smoke network, data-parallel over the
processes that KERAS_DISTRIBUTION_* names (keras.distribution on JAX); prints its final weights.

`die-after-epoch N`: this process stops dead after epoch N, as a machine lost mid-training.
"""

from __future__ import annotations

import json
import os
import sys

import helpers.quiet_tensorflow  # noqa: F401

import keras
import numpy as np
import tensorflow as tf

from helpers.config import load_config
from helpers.modeling.training import build_model, training_strategy
from helpers.modeling.training.fit import fit_epochs
from helpers.runtime import seed_everything

EPOCHS = 3


class DieAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epoch:
            os._exit(3)


def main(die_after_epoch: int | None) -> dict:
    overrides = {"distribute": "data_parallel", "devices": 1, "train_minutes": None}
    cfg = load_config("smoke", overrides={**overrides, "augment": False}, environ={})
    strategy = training_strategy(cfg)  # first: joins the other processes
    seed_everything(cfg.seed)
    rng = np.random.default_rng(0)  # the same batches in every process: Keras shards them
    n = 4 * cfg.batch_size
    images = rng.integers(0, 256, (n, cfg.image_size, cfg.image_size, 3)).astype("uint8")
    labels = keras.utils.to_categorical(rng.integers(0, 2, n), 2)
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(cfg.batch_size)
    model = build_model(cfg, 4, strategy)
    callbacks = [DieAfterEpoch(die_after_epoch)] if die_after_epoch else []
    fit_epochs(model, batches, batches, callbacks, epochs=EPOCHS)
    weights = np.concatenate([np.ravel(w) for w in model.get_weights()])
    return {"weights": weights.round(6).tolist()[:64], "sum": float(np.sum(weights))}


if __name__ == "__main__":
    die = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "die-after-epoch" else None
    print(json.dumps(main(die)))
