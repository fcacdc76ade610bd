"""The networks, selectable by name, each compiled with its own optimizer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import keras
from keras import layers

from helpers.augmentation import build_augmentation
from helpers.config import Config
from helpers.dataset import CLASS_NAMES
from helpers.modeling.backbones import BACKBONES, build_transfer_network, load_backbone_weights


def _image_input(image_size: int) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The network's input of raw 0-255 RGB images, and that input rescaled to [0, 1]."""
    inputs = keras.Input((image_size, image_size, 3), name="image")
    return inputs, layers.Rescaling(1.0 / 255, name="rescale")(inputs)


def _probabilities(x: keras.KerasTensor) -> keras.KerasTensor:
    """The softmax head over the classes, computed in float32 whatever the precision policy."""
    return layers.Dense(len(CLASS_NAMES), activation="softmax", dtype="float32", name="probabilities")(x)


def build_seed_cnn(image_size: int) -> keras.Model:
    """The seed article's network: one 64-filter conv, max-pool, dense 512, softmax over the two classes."""
    inputs, x = _image_input(image_size)
    x = layers.Conv2D(64, 3, activation="relu", name="conv")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    # The article puts relu here: its outputs are not probabilities and the loss goes NaN.
    outputs = _probabilities(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def _conv_stage(x: keras.KerasTensor, widths: tuple[int, ...], stage: int) -> keras.KerasTensor:
    """3x3 convolutions with batch normalization and ReLU, halved in size by max-pooling after the last one.

    The last convolution is pooled before it is normalized: the same network up to the order of two
    per-channel operations, with a quarter of the batch-normalization work, which dominated a
    bfloat16 training step on a 2-core CPU in throughput probes (README: Models).
    """
    for index, width in enumerate(widths, start=1):
        name = f"stage{stage}_conv{index}"
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=name)(x)
        if index == len(widths):
            x = layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
        x = layers.ReLU(name=f"{name}_relu")(x)
    return x


def build_compact_cnn(
    image_size: int,
    stages: tuple[tuple[int, ...], ...] = ((32,), (64,), (128,), (256, 256)),
    dropout: float = 0.3,
    name: str = "compact_cnn",
) -> keras.Model:
    """Stages of Conv-BatchNorm-ReLU with max-pooling, global average pooling, dropout and a softmax head."""
    inputs, x = _image_input(image_size)
    for stage, widths in enumerate(stages, start=1):
        x = _conv_stage(x, widths, stage)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = _probabilities(x)
    return keras.Model(inputs, outputs, name=name)


def build_large_cnn(image_size: int) -> keras.Model:
    """A deeper, wider `compact_cnn` for larger images and budgets: five stages up to 512 filters."""
    stages = ((32,), (64, 64), (128, 128), (256, 256), (512, 512))
    return build_compact_cnn(image_size, stages=stages, dropout=0.4, name="large_cnn")


@dataclass(frozen=True)
class ModelSpec:
    """How to build a named model, and the optimizer and defaults it trains with."""

    build: Callable[[int], keras.Model]
    optimizer: str  # "rmsprop" or "adamw"
    learning_rate: float
    weight_decay: float = 0.0  # AdamW only


MODELS: dict[str, ModelSpec] = {
    "seed_cnn": ModelSpec(build_seed_cnn, "rmsprop", 1e-3),
    "compact_cnn": ModelSpec(build_compact_cnn, "adamw", 3e-4, weight_decay=1e-4),
    "large_cnn": ModelSpec(build_large_cnn, "adamw", 1e-3, weight_decay=0.05),
    # Pretrained backbones with a new head (helpers.modeling.backbones); the rate is phase 1's.
    **{name: ModelSpec(partial(build_transfer_network, name), "adamw", 1e-3, weight_decay=1e-4)
       for name in BACKBONES},
}


def check_model_name(name: str) -> ModelSpec:
    """The spec of model `name`, or a clear error naming the choices."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def learning_rate_schedule(cfg: Config, steps_per_epoch: int | None) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate: a constant (cfg.lr_schedule "plateau") or a warm-up followed by cosine decay to 0."""
    peak = cfg.learning_rate or check_model_name(cfg.model).learning_rate
    if cfg.lr_schedule == "plateau":
        return peak
    if not steps_per_epoch or steps_per_epoch < 1:
        raise ValueError("the cosine learning-rate schedule needs steps_per_epoch: pass build_model(cfg, steps_per_epoch)")
    warmup_steps = cfg.warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else peak,
        decay_steps=cfg.epochs * steps_per_epoch - warmup_steps,
        warmup_target=peak if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def make_optimizer(cfg: Config, steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
    """The optimizer of cfg.model with the configured learning rate (or schedule) and weight decay."""
    spec = check_model_name(cfg.model)
    rate = learning_rate_schedule(cfg, steps_per_epoch)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    decay = spec.weight_decay if cfg.weight_decay is None else cfg.weight_decay
    return keras.optimizers.AdamW(rate, weight_decay=decay)


def build_model(cfg: Config, steps_per_epoch: int | None = None) -> keras.Model:
    """The network named by cfg.model behind the training-only augmentation, compiled with categorical cross-entropy.

    Sets Keras's global dtype policy to cfg.precision first; `steps_per_epoch` is needed by the
    cosine learning-rate schedule.
    """
    spec = check_model_name(cfg.model)
    keras.mixed_precision.set_global_policy(cfg.precision)
    network = spec.build(cfg.image_size)
    if cfg.model in BACKBONES:
        load_backbone_weights(network, cfg)
    model = network
    if cfg.augment:
        inputs = keras.Input((cfg.image_size, cfg.image_size, 3), name="image")
        model = keras.Model(inputs, network(build_augmentation(cfg)(inputs)), name=f"{cfg.model}_training")
    return compile_model(model, make_optimizer(cfg, steps_per_epoch))


def compile_model(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> keras.Model:
    """Compile `model` with `optimizer`, categorical cross-entropy and accuracy."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


def inference_network(model: keras.Model) -> keras.Model:
    """The network without its training-only augmentation: what is saved and predicts."""
    if "augmentation" not in [layer.name for layer in model.layers]:
        return model  # already the network (which may nest a pretrained backbone)
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model) and layer.name != "augmentation"]
    return nested[0] if nested else model
