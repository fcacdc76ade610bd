"""Pretrained keras.applications backbones: which ones, the network around them, freezing.

Their weights files (ImageNet's, or seeded test weights) are helpers.modeling.networks.weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import helpers.quiet_tensorflow  # noqa: F401

import keras
from keras import layers

from helpers.config import Config, ConfigError
from helpers.modeling.networks.heads import class_probabilities, image_input

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


def backbone_spec(name: str) -> Backbone:
    """The backbone called `name`, or a clear error naming the choices."""
    if name not in BACKBONES:
        raise ConfigError(f"unknown backbone {name!r}; choose one of: {', '.join(BACKBONES)}")
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
    inputs = image_input(image_size)
    backbone = build_backbone(name, image_size)
    backbone.trainable = False
    # training=False asks for inference-mode batch normalization; in Keras 3 fit() overrides it
    # (keras-team/keras#20285), so set_phase also keeps every BatchNormalization layer frozen.
    x = backbone(inputs, training=False)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, class_probabilities(x), name=name)


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
