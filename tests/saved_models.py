"""Small saved models for the prediction and export tests."""

from __future__ import annotations

from pathlib import Path

import keras

from helpers.modeling.networks import MODELS


def save_network(
    path: Path,
    name: str = "compact_cnn",
    image_size: int = 16,
    precision: str = "float32",
    nested: bool = False,
) -> Path:
    """Save model `name`, untrained and seeded, as a .keras file; `nested` wraps it in another."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(precision)
    try:
        network = MODELS[name].build(image_size)
        if nested:
            inputs = keras.Input((image_size, image_size, 3), name="image")
            network = keras.Model(inputs, network(inputs), name=f"outer_{name}")
        network.save(path)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return path
