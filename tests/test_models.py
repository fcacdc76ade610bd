import numpy as np
import pytest

from helpers.config import load_config
from helpers.modeling.models import MODELS, build_model, build_seed_cnn, check_model_name, inference_network


def test_seed_cnn_is_the_article_network_with_a_softmax_output():
    model = build_seed_cnn(64)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "Rescaling", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    conv, dense, head = model.get_layer("conv"), model.get_layer("dense"), model.get_layer("probabilities")
    assert (conv.filters, conv.kernel_size, dense.units, head.units) == (64, (3, 3), 512, 2)
    assert head.activation.__name__ == "softmax"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_outputs_class_probabilities(name):
    cfg = load_config(overrides={"model": name, "image_size": 32}, environ={})
    model = build_model(cfg)
    probabilities = model.predict(np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3)), verbose=0)
    assert probabilities.shape == (3, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_augmentation_wraps_the_network_only_for_training():
    cfg = load_config(overrides={"image_size": 32}, environ={})
    model = build_model(cfg)
    assert "augmentation" in [layer.name for layer in model.layers]
    network = inference_network(model)
    assert network.name == "compact_cnn"
    assert "augmentation" not in [layer.name for layer in network.layers]
    plain = build_model(load_config(overrides={"image_size": 32, "augment": False}, environ={}))
    assert inference_network(plain) is plain


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match="unknown model 'resnet'; choose one of: seed_cnn, compact_cnn"):
        check_model_name("resnet")
