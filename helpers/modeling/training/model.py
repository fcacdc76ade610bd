"""The model that trains: the network behind the training-only augmentation, compiled; and the
network taken back out of it, which is what is saved and predicts."""

from __future__ import annotations

import contextlib

import helpers.quiet_tensorflow  # noqa: F401

import keras
import tensorflow as tf

from helpers.augmentation import RandomAffine, build_augmentation
from helpers.config import Config
from helpers.modeling.networks import build_network
from helpers.modeling.networks.heads import image_input
from helpers.modeling.training.devices import Strategy, synchronize_batch_norm
from helpers.modeling.training.optimizer import compile_model, make_optimizer
from helpers.modeling.training.resizing import TrainingSize, training_sizes

# The layers in front of the network that act only while it trains: what inference_network drops.
TRAINING_ONLY_LAYERS = (TrainingSize, RandomAffine)


def build_model(
    cfg: Config,
    steps_per_epoch: int | None = None,
    strategy: Strategy | None = None,
) -> keras.Model:
    """The network named by cfg.model behind its training-only layers, compiled.

    In front of the network, as the settings ask: progressive resizing's TrainingSize, then the
    augmentation. The loss is categorical cross-entropy. The network computes in cfg.precision
    (Keras's global dtype policy); `steps_per_epoch` is needed by the cosine learning-rate schedule.
    Built under `strategy` (helpers.modeling.training.devices), it trains on the strategy's devices.
    """
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        network = build_network(cfg)
        model = network
        training_only = []
        if len(training_sizes(cfg)) > 1:
            training_only.append(TrainingSize(name="training_size"))  # progressive resizing
            # Trained on the shrunk batches too, which its fully convolutional layers read.
            network.input_spec = keras.layers.InputSpec(shape=(None, None, None, 3))
        if cfg.augment:
            training_only.append(build_augmentation(cfg))
        if training_only:
            inputs = x = image_input(cfg.image_size)
            for layer in training_only:
                x = layer(x)
            model = keras.Model(inputs, network(x), name=f"{cfg.model}_training")
        if isinstance(strategy, tf.distribute.MirroredStrategy):
            synchronize_batch_norm(model)
        return compile_model(model, make_optimizer(cfg, steps_per_epoch))


def inference_network(model: keras.Model) -> keras.Model:
    """The network without the training-only layers in front of it: what is saved and predicts."""
    if not any(isinstance(layer, TRAINING_ONLY_LAYERS) for layer in model.layers):
        return model  # already the network (which may nest a pretrained backbone)
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return nested[0] if nested else model
