"""The devices a training runs on: one (the default), or data-parallel on several.

distribute="mirrored": tf.distribute.MirroredStrategy on the TensorFlow backend, every GPU of this
machine or `devices` logical CPUs. distribute="data_parallel": keras.distribution.DataParallel on
the JAX backend, every device of every process that joins the training (several machines), or
`devices` CPU devices.
"""

from __future__ import annotations

import os

import helpers.quiet_tensorflow  # noqa: F401

import keras
import tensorflow as tf

from helpers.config import Config
from helpers.errors import UserError, first_line
from helpers.launch import (
    JOB_ADDRESSES_ENV,
    PROCESS_ID_ENV,
    PROCESSES_ENV,
    launch_problem,
    processes_asked,
)

# A process that stops hearing from another gives up after this long. JAX's own default, 100 s,
# left the survivor of a killed peer waiting 106 s before it aborted (docs/scaling.md).
HEARTBEAT_SECONDS = 10

# What JAX's collectives and its coordination service say when a peer process is gone (as a
# JaxRuntimeError or a ValueError, depending on the operation that noticed).
LOST_PROCESS_SIGNS = ("Gloo", "by peer", "heartbeat", "coordination service")

Strategy = tf.distribute.Strategy | keras.distribution.DataParallel


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


def training_strategy(cfg: Config) -> Strategy:
    """The strategy to build and train the model under: one device, MirroredStrategy or
    keras.distribution's DataParallel (set for the whole process: model.fit reads it).

    Call it before anything else runs on the backend (a dataset, a model): logical CPU devices and
    the processes of a multi-process training must be set up first.
    """
    problem = launch_problem(cfg, keras.backend.backend())
    if problem:
        raise DevicesError(problem)
    if cfg.distribute == "data_parallel":
        return data_parallel(cfg)
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


def join_processes() -> None:
    """Join the other processes of this training, as keras.distribution.initialize does.

    The same call, with a shorter heartbeat: the coordinator is the first of Keras's job
    addresses, or found by JAX in a Slurm job. Keras's seed needs no agreeing on here:
    seed_everything sets the same one in every process. A second call is a no-op.
    """
    import jax

    if jax.distributed.is_initialized():
        return
    addresses = os.environ.get(JOB_ADDRESSES_ENV)
    process_id = os.environ.get(PROCESS_ID_ENV)
    jax.distributed.initialize(
        coordinator_address=addresses.split(",")[0] if addresses else None,
        num_processes=processes_asked() if os.environ.get(PROCESSES_ENV) else None,
        process_id=int(process_id) if process_id else None,
        heartbeat_timeout_seconds=HEARTBEAT_SECONDS,
    )


def data_parallel(cfg: Config) -> keras.distribution.DataParallel:
    """keras.distribution.DataParallel over every device of every process, set for the process."""
    import jax

    if cfg.devices:
        try:
            jax.config.update("jax_num_cpu_devices", cfg.devices)
        except RuntimeError:
            if jax.local_device_count() != cfg.devices:
                raise DevicesError(
                    f"devices={cfg.devices}: JAX has already started, with "
                    f"{jax.local_device_count()} device(s); CPU devices can only be made before "
                    "it starts"
                ) from None
    if processes_asked() > 1:
        join_processes()
    devices = jax.devices()
    if cfg.batch_size % len(devices):
        raise DevicesError(
            f"batch_size={cfg.batch_size} cannot be split evenly between {len(devices)} "
            f"devices: choose a multiple of {len(devices)}"
        )
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    return distribution


def whole_batches(cfg: Config) -> bool:
    """Whether every batch must be whole: data_parallel splits each one evenly between devices."""
    return cfg.distribute == "data_parallel"


class ProcessLostError(UserError, RuntimeError):
    """A process of a multi-process training stopped: the others cannot go on without it."""


def lost_process(error: BaseException) -> ProcessLostError | None:
    """The clear error for a collective that failed because another process stopped, or None."""
    if processes_asked() == 1 or not any(sign in str(error) for sign in LOST_PROCESS_SIGNS):
        return None
    return ProcessLostError(
        f"another of the {processes_asked()} processes of this training stopped "
        f"({first_line(error)}): the training cannot go on without it. Start every process "
        "again with the same command: each resumes from its backup of the last epoch"
    )


def describe_devices(strategy: Strategy) -> str:
    """A line naming the devices a training under `strategy` runs on."""
    if isinstance(strategy, keras.distribution.DataParallel):
        import jax

        devices = strategy.device_mesh.devices.ravel()
        return (
            f"Training data-parallel (keras.distribution on JAX) on {len(devices)} devices in "
            f"{jax.process_count()} process(es): {', '.join(map(str, devices))}; each batch is "
            "split between them"
        )
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        devices = strategy.extended.worker_devices
        return (
            f"Training data-parallel (MirroredStrategy) on {len(devices)} devices: "
            f"{', '.join(devices)}; each batch is split between them"
        )
    if keras.backend.backend() == "jax":
        import jax

        return f"Training on one device (JAX): {jax.devices()[0]}"
    gpus = tf.config.list_logical_devices("GPU")
    device = gpus[0].name if gpus else tf.config.list_logical_devices("CPU")[0].name
    return f"Training on one device: {device}"


def synchronize_batch_norm(model: keras.Model) -> keras.Model:
    """Batch normalization over the global batch, not each device's share of it.

    With it a training on several devices computes what it would on one (up to the order of
    floating-point sums).
    """
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True
    return model
