"""The networks: CNNs trained from scratch, pretrained backbones and their weights, by name."""

from helpers.modeling.networks.backbones import (
    BACKBONES,
    backbone_of,
    backbone_spec,
    build_transfer_network,
    fine_tune_layer_count,
    set_phase,
)
from helpers.modeling.networks.cnns import (
    build_compact_cnn,
    build_large_cnn,
    build_seed_cnn,
    build_slim_cnn,
)
from helpers.modeling.networks.registry import MODELS, ModelSpec, build_network, model_spec
from helpers.modeling.networks.weights import (
    WeightsUnavailableError,
    load_backbone_weights,
    weights_file,
    write_test_weights,
)

__all__ = [
    "BACKBONES",
    "MODELS",
    "ModelSpec",
    "WeightsUnavailableError",
    "backbone_of",
    "backbone_spec",
    "build_compact_cnn",
    "build_large_cnn",
    "build_network",
    "build_seed_cnn",
    "build_slim_cnn",
    "build_transfer_network",
    "fine_tune_layer_count",
    "load_backbone_weights",
    "model_spec",
    "set_phase",
    "weights_file",
    "write_test_weights",
]
