"""The networks, selectable by name, each compiled with its own optimizer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
from keras import layers

from helpers.augmentation import build_augmentation
from helpers.config import Config
from helpers.dataset import CLASS_NAMES


def _image_input(image_size: int) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The network's input of raw 0-255 RGB images, and that input rescaled to [0, 1]."""
    inputs = keras.Input((image_size, image_size, 3), name="image")
    return inputs, layers.Rescaling(1.0 / 255, name="rescale")(inputs)


def build_seed_cnn(image_size: int) -> keras.Model:
    """The seed article's network: one 64-filter conv, max-pool, dense 512, softmax over the two classes."""
    inputs, x = _image_input(image_size)
    x = layers.Conv2D(64, 3, activation="relu", name="conv")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    # The article puts relu here: its outputs are not probabilities and the loss goes NaN.
    outputs = layers.Dense(len(CLASS_NAMES), activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def build_compact_cnn(
    image_size: int,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    dropout: float = 0.3,
) -> keras.Model:
    """Conv-BatchNorm-ReLU blocks with max-pooling, global average pooling, dropout and a softmax head."""
    inputs, x = _image_input(image_size)
    for block, width in enumerate(widths, start=1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{block}_conv")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"block{block}_bn")(x)
        x = layers.ReLU(name=f"block{block}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(len(CLASS_NAMES), activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="compact_cnn")


@dataclass(frozen=True)
class ModelSpec:
    """How to build a named model and the optimizer it trains with."""

    build: Callable[[int], keras.Model]
    optimizer: Callable[[float], keras.optimizers.Optimizer]
    learning_rate: float


MODELS: dict[str, ModelSpec] = {
    "seed_cnn": ModelSpec(build_seed_cnn, lambda lr: keras.optimizers.RMSprop(lr), 1e-3),
    "compact_cnn": ModelSpec(
        build_compact_cnn, lambda lr: keras.optimizers.AdamW(lr, weight_decay=1e-4), 3e-4
    ),
}


def check_model_name(name: str) -> ModelSpec:
    """The spec of model `name`, or a clear error naming the choices."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def build_model(cfg: Config) -> keras.Model:
    """The network named by cfg.model behind the training-only augmentation, compiled with categorical cross-entropy."""
    spec = check_model_name(cfg.model)
    network = spec.build(cfg.image_size)
    model = network
    if cfg.augment:
        inputs = keras.Input((cfg.image_size, cfg.image_size, 3), name="image")
        model = keras.Model(inputs, network(build_augmentation(cfg)(inputs)), name=f"{cfg.model}_training")
    model.compile(
        optimizer=spec.optimizer(cfg.learning_rate or spec.learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


def inference_network(model: keras.Model) -> keras.Model:
    """The network without its training-only augmentation: what is saved and predicts."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model) and layer.name != "augmentation"]
    return nested[0] if nested else model
