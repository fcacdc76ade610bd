"""The devices a training runs on: one (the default), or every device of this machine with
tf.distribute.MirroredStrategy (distribute="mirrored": all GPUs, or `devices` logical CPUs)."""

from __future__ import annotations

import helpers.quiet_tensorflow  # noqa: F401

import keras
import tensorflow as tf

from helpers.config import Config
from helpers.errors import UserError


class DevicesError(UserError, RuntimeError):
    """The devices asked for cannot be set up in this process."""

    notebook_hint = "Restart the kernel, then run the notebook from its first cell."


def split_cpu(count: int) -> None:
    """Make the CPU `count` logical devices, as TensorFlow's own distribution tests do.

    TensorFlow allows it only before it starts: a second call with the same count is a no-op.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError:
        started_with = len(tf.config.list_logical_devices("CPU"))
        if started_with != count:
            raise DevicesError(
                f"devices={count}: TensorFlow has already started, with {started_with} CPU "
                "device(s); logical devices can only be made before it starts"
            ) from None


def training_strategy(cfg: Config) -> tf.distribute.Strategy:
    """The strategy to build and train the model under: one device, or MirroredStrategy.

    Call it before anything else runs on TensorFlow (a dataset, a model): the logical CPU devices
    of `cfg.devices` must be made first.
    """
    if cfg.distribute == "none":
        return tf.distribute.get_strategy()  # the default: the one device TensorFlow picks
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        split_cpu(cfg.devices or 1)
    kind = "GPU" if gpus else "CPU"
    devices = [device.name for device in tf.config.list_logical_devices(kind)]
    if cfg.devices and gpus:
        devices = devices[: cfg.devices]
    return tf.distribute.MirroredStrategy(devices)


def describe_devices(strategy: tf.distribute.Strategy) -> str:
    """A line naming the devices a training under `strategy` runs on."""
    if not isinstance(strategy, tf.distribute.MirroredStrategy):
        gpus = tf.config.list_logical_devices("GPU")
        device = gpus[0].name if gpus else tf.config.list_logical_devices("CPU")[0].name
        return f"Training on one device: {device}"
    devices = strategy.extended.worker_devices
    return (
        f"Training data-parallel (MirroredStrategy) on {len(devices)} devices: "
        f"{', '.join(devices)}; each batch is split between them"
    )


def synchronize_batch_norm(model: keras.Model) -> keras.Model:
    """Batch normalization over the global batch, not each device's share of it.

    With it a training on several devices computes what it would on one (up to the order of
    floating-point sums).
    """
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True
    return model
