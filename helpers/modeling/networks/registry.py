"""The networks by name, each with the optimizer that trains it, and the one way to build them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import helpers.quiet_tensorflow  # noqa: F401

import keras

from helpers.config import Config, ConfigError, resolved_precision
from helpers.modeling.networks.backbones import BACKBONES, build_transfer_network
from helpers.modeling.networks.cnns import (
    build_compact_cnn,
    build_large_cnn,
    build_seed_cnn,
    build_slim_cnn,
)
from helpers.modeling.networks.weights import load_backbone_weights


@dataclass(frozen=True)
class ModelSpec:
    """How to build a named model, and which optimizer trains it (its rates are settings)."""

    build: Callable[[int], keras.Model]
    optimizer: str  # "rmsprop" (the seed article's) or "adamw"


MODELS: dict[str, ModelSpec] = {
    "seed_cnn": ModelSpec(build_seed_cnn, "rmsprop"),
    "slim_cnn": ModelSpec(build_slim_cnn, "adamw"),
    "compact_cnn": ModelSpec(build_compact_cnn, "adamw"),
    "large_cnn": ModelSpec(build_large_cnn, "adamw"),
    # Pretrained backbones with a new head (helpers.modeling.networks.backbones).
    **{name: ModelSpec(partial(build_transfer_network, name), "adamw") for name in BACKBONES},
}


def model_spec(name: str) -> ModelSpec:
    """The spec of model `name`, or a clear error naming the choices."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def build_network(cfg: Config) -> keras.Model:
    """The network named by cfg.model at cfg.image_size, a backbone's weights loaded.

    Sets Keras's global dtype policy to cfg.precision first, so the network computes in it.
    """
    spec = model_spec(cfg.model)
    keras.mixed_precision.set_global_policy(resolved_precision(cfg.precision))
    network = spec.build(cfg.image_size)
    if cfg.model in BACKBONES:
        load_backbone_weights(network, cfg)
    return network
