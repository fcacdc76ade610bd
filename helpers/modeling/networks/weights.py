"""The backbones' weights files: ImageNet's, fetched as keras.applications fetches them, or a file
already on the machine, and seeded test weights for machines that cannot fetch them.

The ImageNet weights are fetched exactly as keras.applications fetches them: `keras.utils.get_file`
with the application's own URL and MD5 hash, cached in ~/.keras/models ($KERAS_HOME/models).
`weights=/path/to/file` (make run-all WEIGHTS=...) uses a file already on the machine instead.
Test weights: `python -m helpers.cli.test_weights PATH [--model mobilenet_v3_small]`.
"""

from __future__ import annotations

import os
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import h5py
import keras
import numpy as np
from keras import layers

from helpers.artifacts import atomic_write
from helpers.config import Config
from helpers.errors import PathInTheWayError, UserError, first_line
from helpers.modeling.networks.backbones import backbone_of, backbone_spec, build_backbone


class WeightsUnavailableError(UserError, RuntimeError):
    """Pretrained weights that cannot be downloaded or read; the message says what to do."""


def keras_cache_dir() -> Path:
    """The folder keras.utils.get_file caches in: $KERAS_HOME, else ~/.keras (or /tmp/.keras)."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home if os.access(home, os.W_OK) else Path("/tmp/.keras")


def download_imagenet_weights(name: str) -> Path:
    """The backbone's ImageNet weights, downloaded once into the Keras cache, hash-checked."""
    spec = backbone_spec(name)
    cache = keras_cache_dir()
    target = cache / "models" / spec.file_name
    try:
        path = keras.utils.get_file(
            spec.file_name,
            spec.origin,
            cache_subdir="models",
            file_hash=spec.file_hash,
            cache_dir=str(cache),
        )
    except Exception as error:  # noqa: BLE001 - any failure gets the same advice
        # get_file removes a partial download, but keeps a complete one that fails the hash check.
        target.unlink(missing_ok=True)
        raise WeightsUnavailableError(
            f"could not download the ImageNet weights of backbone {name!r}: {spec.file_name} from "
            f"{spec.origin} ({error}); nothing was kept in {target.parent}. "
            "Without internet access, get that file on another machine, copy it here and run "
            f"again with WEIGHTS=/path/to/{spec.file_name} (the `weights` setting), or put it in "
            f"{target.parent}/."
        ) from None
    return Path(path)


def weights_file(cfg: Config) -> Path:
    """The backbone's weights file: cfg.weights when set, else the downloaded ImageNet weights."""
    spec = backbone_spec(cfg.model)
    if cfg.weights is None:
        return download_imagenet_weights(cfg.model)
    if not Path(cfg.weights).is_file():
        raise WeightsUnavailableError(
            f"weights={cfg.weights} does not exist: give the path of {spec.file_name} (from "
            f"{spec.origin}), or leave weights empty to download it."
        )
    return Path(cfg.weights)


def load_backbone_weights(network: keras.Model, cfg: Config) -> Path:
    """Load the backbone's weights (ImageNet or cfg.weights) into `network`; return the file."""
    path = weights_file(cfg)
    try:
        # keras.applications loads its files the same way: model.load_weights on the .h5 file.
        backbone_of(network).load_weights(str(path))
    except (ValueError, OSError, KeyError) as error:
        spec = backbone_spec(cfg.model)
        raise WeightsUnavailableError(
            f"{path} does not hold weights of backbone {cfg.model!r} ({first_line(error)}): it "
            f"should be {spec.file_name} from {spec.origin}, a .h5 or .weights.h5 file of that "
            "network."
        ) from None
    return path


def _known_values(
    layer: keras.Layer, variable: keras.Variable, rng: np.random.Generator
) -> np.ndarray:
    """Seeded values of one weight: LeCun-normal kernels, small biases, batch norm near identity."""
    shape = tuple(variable.shape)
    kind = variable.path.rsplit("/", 1)[-1]
    if kind == "kernel":
        # fan-in: a depthwise kernel sees one channel; others see every input channel.
        fan_in = int(
            np.prod(shape[:2] if isinstance(layer, layers.DepthwiseConv2D) else shape[:-1])
        )
        return rng.normal(0.0, np.sqrt(1.0 / fan_in), shape).astype(variable.dtype)
    if kind == "gamma":
        return (1.0 + rng.normal(0.0, 0.01, shape)).astype(variable.dtype)
    if kind in ("beta", "bias"):
        return rng.normal(0.0, 0.01, shape).astype(variable.dtype)
    return keras.ops.convert_to_numpy(variable)  # batch-norm statistics: calibrated next


def _calibrate_batch_norm(backbone: keras.Model, images: np.ndarray) -> None:
    """Set each batch-norm layer's statistics to those of `images`: features of a usable scale."""
    norms = [layer for layer in backbone.layers if isinstance(layer, layers.BatchNormalization)]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 0.0  # the moving statistics become this batch's
    backbone(images, training=True)
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum


def write_test_weights(path: Path, model: str = "mobilenet_v3_small", seed: int = 0) -> Path:
    """Write known, seeded weights of a backbone in the .h5 format keras.applications' files use.

    Every value differs from a fresh initialization, so a test can tell they were loaded. These are
    not ImageNet weights: they let the transfer recipe run where the real file cannot be fetched.
    """
    # The legacy writer that produced keras.applications' files; Keras 3 keeps it for .h5 files.
    from keras.src.legacy.saving import legacy_h5_format

    path = Path(path)
    if not path.name.endswith(".h5") or path.name.endswith(".weights.h5"):
        raise ValueError(
            f"{path}: the file name must end in .h5 (not .weights.h5), as keras.applications' do"
        )
    if path.exists():
        raise PathInTheWayError(f"{path} already exists: choose another path or remove it first")
    backbone = build_backbone(model, 64)  # weights do not depend on the input size
    rng = np.random.default_rng(seed)
    for layer in backbone.layers:
        for variable in layer.weights:
            variable.assign(_known_values(layer, variable, rng))
    _calibrate_batch_norm(backbone, rng.uniform(0, 255, (32, 64, 64, 3)).astype("float32"))

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as file:
            legacy_h5_format.save_weights_to_hdf5_group(file, backbone)

    return atomic_write(path, write)
