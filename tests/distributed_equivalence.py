"""Run as a script: the same training steps on one device and data-parallel on several CPU devices,
from the same weights and batches; prints the losses and the largest weight difference.

`mirrored` (TensorFlow's MirroredStrategy on logical CPUs) or `data_parallel` (keras.distribution
on JAX's CPU devices: run it with KERAS_BACKEND=jax). A process of its own: the devices must be
made before the backend starts.
"""

from __future__ import annotations

import json
import sys

import helpers.quiet_tensorflow  # noqa: F401

import keras
import numpy as np
import tensorflow as tf

from helpers.config import load_config
from helpers.modeling.training import build_model, training_strategy
from helpers.runtime import seed_everything


def main(distribute: str, devices: int, steps: int, synchronized: bool = True) -> dict:
    cfg = load_config(
        "smoke",
        overrides={"augment": False, "distribute": distribute, "devices": devices},
        environ={},
    )
    strategy = training_strategy(cfg)  # first: the devices
    if distribute == "data_parallel":
        keras.distribution.set_distribution(None)  # the one-device side trains outside it
    seed_everything(cfg.seed)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (steps * cfg.batch_size, cfg.image_size, cfg.image_size, 3))
    labels = keras.utils.to_categorical(rng.integers(0, 2, steps * cfg.batch_size), 2)
    batches = tf.data.Dataset.from_tensor_slices((images.astype("uint8"), labels))
    batches = batches.batch(cfg.batch_size)

    single = build_model(cfg, steps)
    distributed = build_model(cfg, steps, strategy)
    if not synchronized:  # each device's own batch-norm statistics: Keras's default on TensorFlow
        for layer in distributed._flatten_layers():
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = False
    for model in (single, distributed):  # the randomness each replica draws is its own
        for layer in model._flatten_layers():
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    distributed.set_weights(single.get_weights())
    loss_single = single.fit(batches, epochs=1, shuffle=False, verbose=0).history["loss"]
    with strategy.scope():
        history = distributed.fit(batches, epochs=1, shuffle=False, verbose=0)
    differences = [
        float(np.max(np.abs(a - b)))
        for a, b in zip(single.get_weights(), distributed.get_weights(), strict=True)
    ]
    return {
        "backend": keras.backend.backend(),
        "distribute": distribute,
        "replicas": replicas(distributed),
        "synchronized_batch_norm": synchronized,
        "loss_single": loss_single,
        "loss_distributed": history.history["loss"],
        "largest_weight_difference": max(differences),
        "largest_weight": max(float(np.max(np.abs(w))) for w in single.get_weights()),
    }


def replicas(model: keras.Model) -> int:
    """The devices that hold a copy of the model's first weight, as it trained."""
    value = model.weights[0].value
    if keras.backend.backend() == "jax":
        return len(value.sharding.device_set)
    return len(getattr(value, "values", [value]))  # a MirroredVariable: a copy per device


if __name__ == "__main__":
    # mirrored|data_parallel, devices, steps, and "unsynchronized" to see what synchronizing batch
    # norm buys (MirroredStrategy)
    distribute, devices, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(main(distribute, devices, steps, "unsynchronized" not in sys.argv)))
