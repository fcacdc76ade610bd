"""The networks, selectable by name, each compiled with its own optimizer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import keras
from keras import layers

from helpers.augmentation import build_augmentation
from helpers.config import Config, resolved_precision
from helpers.layout import CLASS_NAMES
from helpers.modeling.backbones import BACKBONES, build_transfer_network, load_backbone_weights


def _image_input(image_size: int) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The network's input of raw 0-255 RGB images, and that input rescaled to [0, 1]."""
    inputs = keras.Input((image_size, image_size, 3), name="image")
    return inputs, layers.Rescaling(1.0 / 255, name="rescale")(inputs)


def _probabilities(x: keras.KerasTensor) -> keras.KerasTensor:
    """The softmax head over the classes, computed in float32 whatever the precision policy."""
    return layers.Dense(
        len(CLASS_NAMES), activation="softmax", dtype="float32", name="probabilities"
    )(x)


def build_seed_cnn(image_size: int) -> keras.Model:
    """The seed article's network: one 64-filter conv, max-pool, dense 512, two-class softmax."""
    inputs, x = _image_input(image_size)
    x = layers.Conv2D(64, 3, activation="relu", name="conv")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    # The article puts relu here: its outputs are not probabilities and the loss goes NaN.
    outputs = _probabilities(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def _conv_stage(x: keras.KerasTensor, widths: tuple[int, ...], stage: int) -> keras.KerasTensor:
    """3x3 convolutions with batch norm and ReLU; max-pooling after the last halves the size.

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
    """Conv-BatchNorm-ReLU stages with max-pooling, then global average pooling and a head.

    The head is dropout and a softmax layer.
    """
    inputs, x = _image_input(image_size)
    for stage, widths in enumerate(stages, start=1):
        x = _conv_stage(x, widths, stage)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = _probabilities(x)
    return keras.Model(inputs, outputs, name=name)


def build_slim_cnn(image_size: int) -> keras.Model:
    """`compact_cnn` at half the width (16 to 128 filters), a quarter of its work per pixel.

    The default, at 72 px: an epoch there takes about 0.3 of compact_cnn's at 64 px, so a CPU
    budget holds three times the epochs (README: Models).
    """
    stages = ((16,), (32,), (64,), (128, 128))
    return build_compact_cnn(image_size, stages=stages, name="slim_cnn")


def build_large_cnn(image_size: int) -> keras.Model:
    """A deeper, wider `compact_cnn` for larger images and budgets: 5 stages up to 512 filters."""
    stages = ((32,), (64, 64), (128, 128), (256, 256), (512, 512))
    return build_compact_cnn(image_size, stages=stages, dropout=0.4, name="large_cnn")


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
    # Pretrained backbones with a new head (helpers.modeling.backbones).
    **{name: ModelSpec(partial(build_transfer_network, name), "adamw") for name in BACKBONES},
}


def model_spec(name: str) -> ModelSpec:
    """The spec of model `name`, or a clear error naming the choices."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def budgeted(cfg: Config) -> bool:
    """Whether the learning rate follows the time budget (BudgetedCosine, set while training).

    So it does with the cosine schedule and train_minutes set, for the networks trained from
    scratch; a pretrained backbone's two phases have rates of their own.
    """
    return (
        cfg.lr_schedule == "cosine" and cfg.train_minutes is not None and cfg.model not in BACKBONES
    )


def learning_rate_schedule(
    cfg: Config, steps_per_epoch: int | None
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate: constant (lr_schedule "plateau") or a warm-up, then cosine decay to 0."""
    if cfg.lr_schedule == "plateau" or budgeted(cfg):
        return cfg.learning_rate
    if not steps_per_epoch or steps_per_epoch < 1:
        raise ValueError(
            "the cosine learning-rate schedule needs steps_per_epoch: "
            "pass build_model(cfg, steps_per_epoch)"
        )
    # At least one epoch of decay: a one-epoch run (EPOCHS=1) has no warm-up.
    warmup_steps = min(cfg.warmup_epochs, cfg.epochs - 1) * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else cfg.learning_rate,
        decay_steps=cfg.epochs * steps_per_epoch - warmup_steps,
        warmup_target=cfg.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def make_optimizer(cfg: Config, steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
    """cfg.model's optimizer with the configured learning rate (or schedule) and weight decay."""
    rate = learning_rate_schedule(cfg, steps_per_epoch)
    if model_spec(cfg.model).optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    return keras.optimizers.AdamW(rate, weight_decay=cfg.weight_decay)


def build_model(cfg: Config, steps_per_epoch: int | None = None) -> keras.Model:
    """The network named by cfg.model behind the training-only augmentation, compiled.

    The loss is categorical cross-entropy. Sets Keras's global dtype policy to cfg.precision
    first; `steps_per_epoch` is needed by the cosine learning-rate schedule.
    """
    spec = model_spec(cfg.model)
    keras.mixed_precision.set_global_policy(resolved_precision(cfg.precision))
    network = spec.build(cfg.image_size)
    if cfg.model in BACKBONES:
        load_backbone_weights(network, cfg)
    model = network
    if cfg.augment:
        inputs = keras.Input((cfg.image_size, cfg.image_size, 3), name="image")
        model = keras.Model(
            inputs, network(build_augmentation(cfg)(inputs)), name=f"{cfg.model}_training"
        )
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
    nested = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.Model) and layer.name != "augmentation"
    ]
    return nested[0] if nested else model
