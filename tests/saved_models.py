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
    dog_bias: float = 0.0,
) -> Path:
    """Save model `name`, untrained and seeded, as a .keras file; `nested` wraps it in another.

    `dog_bias` moves the head's logits apart (dog up, cat down): an untrained network then says
    "dog" with a probability far from 0.5, so that swapped output columns cannot go unseen.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(precision)
    try:
        network = MODELS[name].build(image_size)
        head = network.get_layer("probabilities")
        head.bias.assign(head.bias + keras.ops.convert_to_tensor([-dog_bias, dog_bias]) / 2)
        if nested:
            inputs = keras.Input((image_size, image_size, 3), name="image")
            network = keras.Model(inputs, network(inputs), name=f"outer_{name}")
        network.save(path)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return path
