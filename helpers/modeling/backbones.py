"""Pretrained keras.applications backbones: the network around them, ImageNet weights, freezing.

The ImageNet weights are fetched exactly as keras.applications fetches them: `keras.utils.get_file`
with the application's own URL and MD5 hash, cached in ~/.keras/models ($KERAS_HOME/models).
`weights=/path/to/file` (make run-all WEIGHTS=...) uses a file already on the machine instead.

Command line, for machines without the real files (tests, the transfer-smoke profile):
    python -m helpers.modeling.backbones write-test-weights PATH [--model mobilenet_v3_small]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import keras
import numpy as np
from keras import layers

from helpers.artifacts import atomic_write
from helpers.config import Config
from helpers.errors import UserError
from helpers.layout import CLASS_NAMES

# Where keras.applications downloads each family's weights (BASE_WEIGHT_PATH in its modules);
# a module-level table so that tests can point it at a local server.
WEIGHTS_BASE_URLS: dict[str, str] = {
    "mobilenet_v3": "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/",
    "efficientnet_v2": (
        "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
    ),
}


@dataclass(frozen=True)
class Backbone:
    """A keras.applications network without its ImageNet classifier, and its weights file."""

    application: Callable[..., keras.Model]
    family: str  # key of WEIGHTS_BASE_URLS
    file_name: str  # the "no top" weights file, as keras.applications names it
    file_hash: str  # its MD5, from keras.applications' WEIGHTS_HASHES
    fine_tune_from: str  # phase 2 unfreezes the backbone from this layer to its top
    use: str  # when to pick it

    @property
    def origin(self) -> str:
        """The URL keras.applications downloads the weights file from."""
        return WEIGHTS_BASE_URLS[self.family] + self.file_name


BACKBONES: dict[str, Backbone] = {
    "mobilenet_v3_small": Backbone(
        keras.applications.MobileNetV3Small,
        "mobilenet_v3",
        "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        "d3e8ec802a04aa4fc771ee12a9a9b836",
        fine_tune_from="expanded_conv_9_expand",  # the last two blocks and the final 1x1 conv
        use="a CPU: 0.9 M weights, the fastest",
    ),
    "efficientnet_v2_b0": Backbone(
        keras.applications.EfficientNetV2B0,
        "efficientnet_v2",
        "efficientnetv2-b0_notop.h5",
        "893217f2bb855e2983157299931e43ff",
        fine_tune_from="block6g_expand_conv",
        use="a CPU with more time, or a small GPU: 5.9 M weights",
    ),
    "efficientnet_v2_s": Backbone(
        keras.applications.EfficientNetV2S,
        "efficientnet_v2",
        "efficientnetv2-s_notop.h5",
        "af0682fb74e8c54910f2d4393339c070",
        fine_tune_from="block6n_expand_conv",
        use="a GPU: 20 M weights, the strongest",
    ),
}


class WeightsUnavailableError(UserError, RuntimeError):
    """Pretrained weights that cannot be downloaded or read; the message says what to do."""


def backbone_spec(name: str) -> Backbone:
    """The backbone called `name`, or a clear error naming the choices."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of: {', '.join(BACKBONES)}")
    return BACKBONES[name]


def build_backbone(name: str, image_size: int) -> keras.Model:
    """The backbone without weights (they are loaded separately), with its own input preprocessing.

    Both families take the project's 0-255 RGB input: include_preprocessing=True puts the
    rescaling (and normalization) the ImageNet weights were trained with inside the backbone.
    """
    return backbone_spec(name).application(
        input_shape=(image_size, image_size, 3),
        include_top=False,
        weights=None,
        include_preprocessing=True,
    )


def backbone_of(network: keras.Model) -> keras.Model:
    """The pretrained backbone nested in a network built by build_transfer_network."""
    nested = [layer for layer in network.layers if isinstance(layer, keras.Model)]
    if len(nested) != 1:
        raise ValueError(f"network {network.name!r} does not nest exactly one backbone")
    return nested[0]


def build_transfer_network(name: str, image_size: int, dropout: float = 0.2) -> keras.Model:
    """Backbone `name` (frozen), global average pooling, dropout and a float32 softmax."""
    inputs = keras.Input((image_size, image_size, 3), name="image")
    backbone = build_backbone(name, image_size)
    backbone.trainable = False
    # training=False asks for inference-mode batch normalization; in Keras 3 fit() overrides it
    # (keras-team/keras#20285), so set_phase also keeps every BatchNormalization layer frozen.
    x = backbone(inputs, training=False)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(
        len(CLASS_NAMES), activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def fine_tune_layer_count(network: keras.Model, cfg: Config) -> int:
    """How many top backbone layers phase 2 unfreezes: cfg.fine_tune_layers, or the backbone's."""
    backbone = backbone_of(network)
    if cfg.fine_tune_layers is not None:
        return min(cfg.fine_tune_layers, len(backbone.layers))
    names = [layer.name for layer in backbone.layers]
    return len(names) - names.index(backbone_spec(cfg.model).fine_tune_from)


def set_phase(network: keras.Model, phase: int, fine_tune_layers: int = 0) -> None:
    """Phase 1: the whole backbone frozen. Phase 2: its top `fine_tune_layers` layers trainable.

    Batch normalization stays frozen in both phases: a frozen BatchNormalization layer runs in
    inference mode, keeping the ImageNet statistics that the rest of the backbone relies on.
    """
    backbone = backbone_of(network)
    backbone.trainable = phase == 2  # sets every layer inside
    if phase == 2:
        for layer in backbone.layers[: len(backbone.layers) - fine_tune_layers]:
            layer.trainable = False
        for layer in backbone.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False


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
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WeightsUnavailableError(
            f"{path} does not hold weights of backbone {cfg.model!r} ({reason}): it should be "
            f"{spec.file_name} from {spec.origin}, a .h5 or .weights.h5 file of that network."
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
        raise FileExistsError(f"{path} already exists: choose another path or remove it first")
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


def main(argv: list[str] | None = None) -> int:
    """Command line: write-test-weights PATH [--model NAME] [--seed N]."""
    parser = argparse.ArgumentParser(
        description="Backbone weights for machines without the ImageNet files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser(
        "write-test-weights", help="write seeded (not ImageNet) weights of a backbone"
    )
    write.add_argument("path", type=Path, help="the .h5 file to write")
    write.add_argument("--model", default="mobilenet_v3_small", choices=sorted(BACKBONES))
    write.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        path = write_test_weights(args.path, args.model, args.seed)
    except (ValueError, FileExistsError) as error:
        print(f"write-test-weights: {error}", file=sys.stderr)
        return 2
    print(
        f"wrote seeded test weights of {args.model} (not ImageNet weights) to {path}: "
        f"use them with WEIGHTS={path} MODEL={args.model}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
