"""Run as a script: the same training steps on one device and with MirroredStrategy on logical CPU
devices, from the same weights and batches; prints the losses and the largest weight difference.

A process of its own: the logical devices must be made before TensorFlow starts.
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


def main(devices: int, steps: int, synchronized: bool = True) -> dict[str, object]:
    cfg = load_config(
        "smoke",
        overrides={"augment": False, "distribute": "mirrored", "devices": devices},
        environ={},
    )
    strategy = training_strategy(cfg)  # first: the logical devices
    seed_everything(cfg.seed)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (steps * cfg.batch_size, cfg.image_size, cfg.image_size, 3))
    labels = keras.utils.to_categorical(rng.integers(0, 2, steps * cfg.batch_size), 2)
    batches = tf.data.Dataset.from_tensor_slices((images.astype("uint8"), labels))
    batches = batches.batch(cfg.batch_size)

    single = build_model(cfg, steps)
    mirrored = build_model(cfg, steps, strategy)
    if not synchronized:  # each device's own batch-norm statistics: Keras's default
        for layer in mirrored._flatten_layers():
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = False
    for model in (single, mirrored):  # the randomness each replica draws is its own
        for layer in model._flatten_layers():
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    mirrored.set_weights(single.get_weights())
    losses = {}
    for name, model in (("single", single), ("mirrored", mirrored)):
        losses[name] = model.fit(batches, epochs=1, shuffle=False, verbose=0).history["loss"]
    differences = [
        float(np.max(np.abs(a - b)))
        for a, b in zip(single.get_weights(), mirrored.get_weights(), strict=True)
    ]
    return {
        "replicas": strategy.num_replicas_in_sync,
        "synchronized_batch_norm": synchronized,
        "loss_single": losses["single"],
        "loss_mirrored": losses["mirrored"],
        "largest_weight_difference": max(differences),
        "largest_weight": max(float(np.max(np.abs(w))) for w in single.get_weights()),
    }


if __name__ == "__main__":
    # devices, steps, and "unsynchronized" to see what synchronizing batch norm buys
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), "unsynchronized" not in sys.argv)))
