import keras
import numpy as np
import pytest

from helpers.config import Config, ConfigError, load_config
from helpers.modeling.networks import BACKBONES, MODELS, build_seed_cnn, model_spec
from helpers.modeling.training import (
    build_model,
    inference_network,
    learning_rate_schedule,
    make_optimizer,
)

# A constant learning rate and float32: models built without a training set to size a schedule.
PLAIN = {"lr_schedule": "plateau", "precision": "float32"}


def test_seed_cnn_is_the_article_network_with_a_softmax_output():
    model = build_seed_cnn(64)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        "Rescaling",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    conv, dense, head = (
        model.get_layer("conv"),
        model.get_layer("dense"),
        model.get_layer("probabilities"),
    )
    assert (conv.filters, conv.kernel_size, dense.units, head.units) == (64, (3, 3), 512, 2)
    assert head.activation.__name__ == "softmax"


# Pretrained backbones need weights: tests/test_backbones.py builds them with test weights.
@pytest.mark.parametrize("name", sorted(set(MODELS) - set(BACKBONES)))
def test_every_model_outputs_class_probabilities(name):
    # Under mixed precision: the head must still compute, and output, float32 probabilities.
    overrides = {"model": name, "image_size": 32, **PLAIN, "precision": "mixed_bfloat16"}
    try:
        model = build_model(load_config(overrides=overrides, environ={}))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    head = inference_network(model).get_layer("probabilities")
    assert head.activation.__name__ == "softmax" and head.dtype_policy.compute_dtype == "float32"
    probabilities = model.predict(
        np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3)), verbose=0
    )
    # A relu head (the seed article's) or a bfloat16 one would not give these.
    assert probabilities.shape == (3, 2) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


def test_augmentation_wraps_the_network_only_for_training():
    cfg = load_config(overrides={"image_size": 32, **PLAIN}, environ={})
    model = build_model(cfg)
    assert "augmentation" in [layer.name for layer in model.layers]
    network = inference_network(model)
    assert network.name == cfg.model
    assert "augmentation" not in [layer.name for layer in network.layers]
    plain = build_model(
        load_config(overrides={"image_size": 32, "augment": False, **PLAIN}, environ={})
    )
    assert inference_network(plain) is plain


def test_unknown_model_names_the_choices():
    choices = "seed_cnn, slim_cnn, compact_cnn, large_cnn"
    with pytest.raises(ValueError, match=f"unknown model .resnet.; choose one of: {choices}"):
        model_spec("resnet")


def test_the_settings_know_the_networks_by_the_names_they_are_built_by():
    from helpers.config import BACKBONE_MODELS, CNN_MODELS, MODEL_NAMES

    assert tuple(MODELS) == MODEL_NAMES and tuple(BACKBONES) == BACKBONE_MODELS
    assert set(CNN_MODELS).isdisjoint(BACKBONE_MODELS)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    cfg = load_config(
        overrides={
            "lr_schedule": "cosine",
            "epochs": 5,
            "warmup_epochs": 1,
            "learning_rate": 2e-3,
            "train_minutes": None,
        },
        environ={},
    )
    schedule = learning_rate_schedule(cfg, steps_per_epoch=10)
    rates = [float(schedule(step)) for step in (0, 5, 10, 30, 50)]
    assert (
        rates[0] == pytest.approx(0.0)
        and rates[1] == pytest.approx(1e-3)
        and rates[2] == pytest.approx(2e-3)
    )
    assert rates[2] > rates[3] > rates[4] and rates[4] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="needs steps_per_epoch"):
        build_model(cfg)


@pytest.mark.parametrize("epochs, warmup", [(1, 1), (2, 5)])
def test_warm_up_leaves_at_least_one_epoch_of_decay(epochs, warmup):
    # make run-all EPOCHS=1 with the default one epoch of warm-up: no warm-up, decay to 0.
    overrides = {"epochs": epochs, "warmup_epochs": warmup, "train_minutes": None}
    cfg = load_config(overrides=overrides, environ={})
    schedule = learning_rate_schedule(cfg, steps_per_epoch=10)
    first, last = float(schedule(0)), float(schedule(epochs * 10))
    if epochs == 1:
        assert first == pytest.approx(cfg.learning_rate)
    else:
        assert first == pytest.approx(0.0) and float(schedule(10)) == pytest.approx(
            cfg.learning_rate
        )
    assert last == pytest.approx(0.0, abs=1e-9)


def test_plateau_schedule_is_the_configured_constant_rate_and_weight_decay_is_a_setting():
    cfg = load_config(overrides={"weight_decay": 0.02, **PLAIN}, environ={})
    assert learning_rate_schedule(cfg, None) == cfg.learning_rate
    assert make_optimizer(cfg).weight_decay == pytest.approx(0.02)


@pytest.mark.parametrize("name", ["seed_cnn", "slim_cnn", "compact_cnn", "large_cnn"])
def test_every_model_trains_at_the_recipe_rate_whatever_its_optimizer(name):
    # One source of defaults: no model brings a learning rate or weight decay of its own.
    cfg = load_config(overrides={"model": name, **PLAIN}, environ={})
    optimizer = make_optimizer(cfg)
    assert float(optimizer.learning_rate) == pytest.approx(Config.learning_rate)
    with pytest.raises(ConfigError, match="learning_rate cannot be empty"):
        load_config(overrides={"learning_rate": None}, environ={})


def test_mixed_bfloat16_computes_in_bfloat16_but_outputs_float32_probabilities():
    cfg = load_config(
        overrides={"image_size": 32, **PLAIN, "precision": "mixed_bfloat16"}, environ={}
    )
    try:
        model = build_model(cfg)
        network = inference_network(model)
        assert network.get_layer("stage1_conv1").compute_dtype == "bfloat16"
        assert network.get_layer("stage1_conv1").kernel.dtype == "float32"
        probabilities = model.predict(np.zeros((2, 32, 32, 3), "uint8"), verbose=0)
        assert probabilities.dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")  # as later tests expect
